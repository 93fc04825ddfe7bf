import XbarCore
import XbarIR

/// One step of the lowering pipeline (docs/compiler.md, "Pass pipeline"): reads what earlier passes left in the
/// compilation state, adds its own part, and states what must hold afterwards.
public protocol CompilerPass: Sendable {
    /// The name `xbar compile --print-after` takes.
    var name: String { get }
    /// One line: what the pass does (printed by `xbar compile --passes`).
    var summary: String { get }
    /// Runs the pass over every population (or over the program).
    func run(_ state: inout CompilationState) throws
    /// Throws when something the pass must have produced does not hold. The pass manager also runs the IR verifier
    /// on the program after every pass (`PassManager.verify(_:after:)`).
    func verify(_ state: CompilationState) throws
    /// Whether the pass writes the program (then the IR verifier runs after it); passes that only fill work items
    /// say false, which spares a comparison of the whole program.
    var changesProgram: Bool { get }
    /// Whether the pass writes the step block (else the IR verifier after it leaves the step, verified before, alone).
    var changesStep: Bool { get }
    /// Whether this run of the pass wrote the program: `changesProgram`, or false for a pass with nothing to do in
    /// this graph (the IR verifier then does not run again over a program it has just verified).
    func changedProgram(_ state: CompilationState) -> Bool
}

extension CompilerPass {
    public var changesProgram: Bool { true }
    public var changesStep: Bool { changesProgram }
    public func changedProgram(_ state: CompilationState) -> Bool { changesProgram }
}

/// Runs the passes in order, verifies the state after each one, and can stop after a named pass.
public struct PassManager: Sendable {
    public let passes: [any CompilerPass]

    public init(passes: [any CompilerPass]) { self.passes = passes }

    /// The compiler's pipeline.
    public static let standard = PassManager(passes: [
        OrderPass(), BlocksPass(), QuantisePass(), SkipZeroRowsPass(), TilePass(), SkipEmptyPass(), PlacePass(), CellsPass(), GroupRowsPass(),
        ScalesPass(), NeuronsPass(), ReadoutPass(), EmitPass(), PlasticityPass(),
    ])

    /// The pass names, in order.
    public var names: [String] { passes.map { $0.name } }

    /// The pass called `name`, or a one-line error listing the valid names (`field` names the option it came from).
    public func pass(named name: String, field: String = "--print-after") throws -> any CompilerPass {
        guard let p = passes.first(where: { $0.name == name }) else {
            throw XbarError(file: field, field: "", "unknown pass \"\(name)\" (expected one of: \(names.joined(separator: ", ")))")
        }
        return p
    }

    /// `xbar compile --passes`: one line per pass, its name and what it does.
    public var listing: String {
        let width = names.map { $0.count }.max() ?? 0
        return passes.map { $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary + "\n" }.joined()
    }

    /// Runs every pass (or up to and including `last`), verifying after each, then throws the error of the earliest
    /// failed population, if any (`CompilationState.failure`; the state is not verified once a population failed).
    public func run(_ state: inout CompilationState, through last: String? = nil) throws {
        if let last { _ = try pass(named: last) }
        for p in passes {
            try p.run(&state)
            state.passesRun.append(p.name)
            if state.failure == nil { try verify(state, after: p, programChanged: p.changedProgram(state)) }
            if p.name == last { break }
        }
        if let f = state.failure { throw f.error }
    }

    /// The checks run after pass `p`: its own postconditions, then, if the pass changed the program, the IR verifier
    /// on it (every cell's code after `cells` only, the pass that writes them). A failure names the pass — `FILE: after pass P: FIELD: MESSAGE` — except the IR verifier's on a
    /// complete program (one with a step block), which reads as `xbar inspect` would report it.
    public func verify(_ state: CompilationState, after p: any CompilerPass, programChanged: Bool = true) throws {
        let complete = !state.program.step.isEmpty
        do {
            try p.verify(state)
            if programChanged && !complete { try Self.verifyPartialProgram(state, codes: p.name == "cells") }
        } catch let e as XbarError {
            throw XbarError(file: e.file, field: "after pass \(p.name)" + (e.field.isEmpty ? "" : ": \(e.field)"), e.message)
        }
        if programChanged && complete {
            try IRVerifier.verify(state.program, file: state.context.file, codes: p.name == "cells", step: p.changesStep)
        }
    }

    /// The IR verifier on a program without a step block yet: its neuron and readout declarations are left out (the
    /// verifier requires every declared population to be updated by a step op); everything else declared so far —
    /// inputs, arrays with their placement and codes — must already be valid IR.
    /// Cell codes are checked after `cells` only (before it every cell holds the unused code).
    public static func verifyPartialProgram(_ state: CompilationState, codes: Bool = true) throws {
        var p = state.program
        p.neurons = []
        p.readouts = []
        try IRVerifier.verify(p, file: state.context.file, codes: codes)
    }
}

/// A failed postcondition of a pass.
func passCheck(_ ok: Bool, _ state: CompilationState, _ field: String, _ message: @autoclosure () -> String) throws {
    if !ok { throw XbarError(file: state.context.file, field: field, message()) }
}
