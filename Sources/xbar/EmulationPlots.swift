import ArgumentParser
import Foundation
import XbarCore
import XbarDevice
import XbarEmulator
import XbarEvents
import XbarIR

/// Pictures of a run (`run` and `emulate`; docs/report.md, "Pictures"): the spike raster of chosen samples and the
/// per-step membrane of chosen neurons, as SVG.
struct PlotOptions: ParsableArguments {
    @Option(help: "Write the spike raster of the chosen samples (--plot-samples) as SVG: populations stacked, the readout's decision beside it.")
    var rasterSvg: String?
    @Option(help: "Write the per-step membrane of the chosen neurons (--plot-neurons) in the chosen samples as SVG (records traces of the run).")
    var membraneSvg: String?
    @Option(help: "Samples to plot, comma-separated indices into the run's samples (default 0).")
    var plotSamples: String = "0"
    @Option(help: "Neurons whose membrane to plot, comma-separated POP:INDEX (default: the first 4 neurons of the first population).")
    var plotNeurons: String?

    var wantsTraces: Bool { membraneSvg != nil }

    /// The chosen sample indices, each checked against the run's `count` samples.
    func samples(count: Int) throws -> [Int] {
        let parts = plotSamples.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty else { throw XbarError(file: "<command line>", field: "--plot-samples", "expected comma-separated sample indices") }
        return try parts.map { t in
            guard let i = Int(t), i >= 0, i < count else {
                throw XbarError(file: "<command line>", field: "--plot-samples", "\"\(t)\" is not a sample index (the run has \(count) samples: 0 ... \(count - 1))")
            }
            return i
        }
    }

    /// The chosen neurons as (population, index), each checked against the program.
    func neurons(_ p: Program) throws -> [(NeuronDecl, Int)] {
        guard let spec = plotNeurons else {
            guard let n = p.neurons.first else { throw XbarError(file: "<command line>", field: "--membrane-svg", "the program has no neuron population") }
            return (0..<min(4, n.size)).map { (n, $0) }
        }
        return try spec.split(separator: ",").map { item in
            let t = item.trimmingCharacters(in: .whitespaces)
            let kv = t.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2, let n = p.neurons.first(where: { $0.name == kv[0] || "@" + $0.name == kv[0] }) else {
                throw XbarError(file: "<command line>", field: "--plot-neurons",
                                "\"\(t)\": expected POP:INDEX with POP one of \(p.neurons.map(\.name).joined(separator: ", "))")
            }
            guard let i = Int(kv[1]), i >= 0, i < n.size else {
                throw XbarError(file: "<command line>", field: "--plot-neurons", "\"\(t)\": @\(n.name) has neurons 0 ... \(n.size - 1)")
            }
            return (n, i)
        }
    }

    /// Validates the choices before the run (so a typo does not cost a whole emulation).
    func validate(program p: Program, samples count: Int) throws {
        guard rasterSvg != nil || membraneSvg != nil else { return }
        _ = try samples(count: count)
        if membraneSvg != nil { _ = try neurons(p) }
    }

    /// Writes the requested pictures of `outcome` (run on `data`).
    func write(program p: Program, data: EventDataset, outcome o: Runner.Outcome, engine: String) throws {
        if let path = rasterSvg {
            let panels = try samples(count: o.samples.count).map { s in EmulationPlots.rasterPanel(p, sample: s, result: o.samples[s], label: data.samples[s].label) }
            try AtomicFile.write(RasterPlotSVG.render(title: "\(p.name): spike raster (\(engine) engine)", panels: panels), to: path)
        }
        if let path = membraneSvg {
            try AtomicFile.write(EmulationPlots.membraneSVG(p, samples: try samples(count: o.samples.count), neurons: try neurons(p), outcome: o, engine: engine),
                                 to: path)
        }
    }
}

/// Builds the plots' data from a run's results.
enum EmulationPlots {
    static func rasterPanel(_ p: Program, sample s: Int, result r: SampleResult, label: Int?) -> RasterPanel {
        let groups = p.neurons.map { n in
            RasterPanel.Group(name: n.name, size: n.size, spikes: (r.spikes[n.name] ?? []).map { (Int($0.step), Int($0.neuron)) })
        }
        var decision: RasterPanel.Decision? = nil
        if let ro = p.readouts.first, let acc = r.readout[ro.name] {
            decision = RasterPanel.Decision(readout: ro.name, values: acc.map { Double($0) * ro.scale }, predicted: r.prediction(ro.name), label: label)
        }
        let total = groups.reduce(0) { $0 + $1.spikes.count }
        return RasterPanel(title: "sample \(s)\(label.map { " (label \($0))" } ?? ""): \(total) spikes", steps: p.timesteps, groups: groups,
                           decision: decision)
    }

    /// One line per (sample, neuron): the traced membrane (before the reset, so a crossing shows) in membrane LSBs,
    /// and each LIF population's threshold dashed.
    static func membraneSVG(_ p: Program, samples: [Int], neurons: [(NeuronDecl, Int)], outcome o: Runner.Outcome, engine: String) -> String {
        var series: [LineSeries] = []
        for s in samples {
            for (n, i) in neurons {
                guard let tr = o.samples[s].traces[n.name] else { continue }
                let pts = tr.membrane.enumerated().map { (x: Double($0.offset), y: Double($0.element[i])) }
                series.append(LineSeries(label: "sample \(s) @\(n.name)[\(i)]", points: pts, color: RasterPlotSVG.colors[series.count % RasterPlotSVG.colors.count]))
            }
        }
        var seen = Set<String>()
        for (n, _) in neurons where n.model == nil && n.spiking && seen.insert(n.name).inserted {
            series.append(LineSeries(label: "@\(n.name) threshold \(n.threshold)",
                                     points: [(x: 0, y: Double(n.threshold)), (x: Double(max(p.timesteps - 1, 1)), y: Double(n.threshold))],
                                     color: "#777", dashed: true))
        }
        return LinePlotSVG.render(title: "\(p.name): membrane per step (\(engine) engine)",
                                  subtitle: "value before the reset, in membrane LSBs", xLabel: "step", yLabel: "membrane (LSB)", series: series)
    }
}
