import XbarCore
import XbarGraph

/// `order` (docs/compiler.md, "Placement"): numbers every population's neurons and input channels in the physical
/// order of `CompileOptions.placement` and continues on the graph renumbered that way. Identity leaves the graph as it
/// is. Electroformed targets keep the graph order (their cells are formed at random; there is nothing to gather).
public struct OrderPass: CompilerPass {
    public let name = "order"
    public let summary = "number neurons and input channels for placement (--placement identity|spatial|metis): the graph renumbered"
    public let changesProgram = false

    public init() {}

    public func run(_ s: inout CompilationState) throws {
        let c = s.context, mode = c.options.placement
        guard mode != .identity else { return }
        guard !(c.strategy is FormingProgramming) else {
            throw c.error("placement", "target \(c.target.name) electroforms its weights at random: --placement \(mode.rawValue) needs programmed weights (use identity, or --set device.programming=write_verify)")
        }
        let sg = SynapseGraph(c.graph)
        let order: [String: [Int]]
        switch mode {
        case .identity: order = [:]
        case .spatial: order = PlacementOrders.spatial(c.graph, sg)
        case .metis:
            order = try PlacementOrders.metis(c.graph, sg, partSize: max(1, c.target.macro.cols / c.cellsPerWeight), file: c.file)
        }
        let p = Placement(mode: mode, order: order)
        s.placement = p
        s.context = try CompilationContext(graph: p.apply(to: c.graph), target: c.target, options: c.options, file: c.file)
    }

    /// Every order is a permutation of its population.
    public func verify(_ s: CompilationState) throws {
        if let problem = s.placement.check(s.context.graph) { try passCheck(false, s, "placement", problem) }
    }
}
