import Foundation
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarTarget

/// The manifest (manifest.json): every file with its format, widths, signedness, record count and SHA-256, plus
/// the program, target, seed, cycle counts and tool version (docs/vectors.md, "manifest.json").
enum Manifest {
    static func typeJSON(_ t: IntType) -> JSONValue {
        .object([("type", .string(t.description)), ("bits", .int(Int64(t.bits))), ("signed", .bool(t.signed))])
    }

    static func opJSON(_ k: Int, _ op: Op, _ tm: TimingModel) -> JSONValue {
        var o: [(String, JSONValue)] = [("index", .int(Int64(k))), ("name", .string(op.result)), ("op", .string(op.kind.mnemonic)),
                                        ("type", .string(op.type.description)), ("bits", .int(Int64(op.type.bits))),
                                        ("signed", .bool(op.type.signed)), ("length", .int(Int64(op.length)))]
        let res: String
        switch tm.resource[k] {
        case let .array(a): res = "array \(tm.program.arrays[a].name)"
        case .digital: res = "digital"
        case .neuron: res = "neuron"
        case .none: res = "none"
        }
        o.append(("resource", .string(res)))
        o.append(("ir", .string(IRPrinter.opLine(op))))
        return .object(o)
    }

    static func json(program p: Program, chip: Chip, data: EventDataset, source: VectorSource, files: [VectorFile], cycles: [Int64],
                     results: [SampleResult], inputType: [IntType], vcd: [(String, JSONValue)]) -> JSONValue {
        let t = source.target
        let spec = chip.timing.spec
        let d = t.device
        let noisy = !source.idealDevice && (d.readNoise != nil || d.adc != nil)
        var deviceDoc: [(String, JSONValue)] = [
            ("ideal_device", .bool(source.idealDevice)),
            ("programming", .string(source.idealDevice ? "exact" : d.programming.rawValue)),
            ("read_noise", .bool(!source.idealDevice && d.readNoise != nil)),
            ("adc_noise", .bool(!source.idealDevice && d.adc != nil)),
            ("faults", .bool(!source.idealDevice && d.faults != nil)),
            ("drift", .bool(!source.idealDevice && d.drift != nil)),
            ("ir_drop", .bool(!source.idealDevice && d.irDrop != nil)),
        ]
        if let a = source.ageS { deviceDoc.append(("age_s", .double(a))) }
        deviceDoc.append(("note", .string(noisy
            ? "per-read and ADC noise are drawn per read from the seed (docs/device.md): the ADC codes in response/adc.*.vec include them, so sums of the realised codes do not reproduce those codes exactly; everything after the ADC is exact integer arithmetic and must match bit for bit"
            : "no per-read noise: each ADC code is the op's rounding of the sum of the realised codes of the driven rows")))

        let timing: JSONValue = .object([
            ("max_rows_driven", .int(Int64(spec.maxRowsDriven))), ("cols_per_adc", .int(Int64(spec.colsPerADC))),
            ("adc_kind", .string(spec.adcKind.rawValue)), ("adc_cycles_per_bit", .int(Int64(spec.adcCyclesPerBit))),
            ("adc_overhead_cycles", .int(Int64(spec.adcOverheadCycles))), ("settle_cycles", .int(Int64(spec.settleCycles))),
            ("integrate_cycles", .int(Int64(spec.integrateCycles))), ("digital_lanes", .int(Int64(spec.digitalLanes))),
            ("neuron_units", .int(Int64(spec.neuronUnits))), ("neuron_pipeline", .int(Int64(spec.neuronPipeline))),
            ("router_queue", .int(Int64(spec.routerQueue))), ("router_spikes_per_cycle", .int(Int64(spec.routerSpikesPerCycle))),
            ("readout_macs", .int(Int64(spec.readoutMACs))),
        ])

        let pops: [JSONValue] = p.neurons.enumerated().map { (i, n) in
            .object([
                ("name", .string(n.name)), ("size", .int(Int64(n.size))), ("mem", typeJSON(n.memType)),
                ("mem_overflow", .string(n.memOverflow.rawValue)), ("decay_mul", .int(n.decayMul)), ("decay_shift", .int(Int64(n.decayShift))),
                ("decay_rounding", .string(n.decayRounding.rawValue)), ("threshold", .int(n.threshold)), ("compare", .string(n.compare.rawValue)),
                ("reset", .string(n.reset.rawValue)), ("refractory", .int(Int64(n.refractory))), ("refractory_counter", typeJSON(n.refractoryType)),
                ("bias", .int(n.bias)), ("neuron_bias", NeuronImage.biasPath(n).map { .string($0) } ?? .null),
                ("spiking", .bool(n.spiking)), ("synapse", synapseJSON(n)),
                ("count", typeJSON(n.countType)), ("input_current", typeJSON(inputType[i])),
                ("neuron_lanes", .int(Int64(min(spec.neuronUnits, n.size)))),
                ("ir", .string(neuronLine(n))),
            ])
        }
        let arrays: [JSONValue] = p.arrays.enumerated().map { (ai, a) in
            .object([("name", .string(a.name)), ("macro", .int(Int64(a.macro))), ("index", .int(Int64(a.index))), ("rows", .int(Int64(a.rows))),
                     ("cols", .int(Int64(a.cols))), ("code", typeJSON(a.codeType)), ("g_unit_ns", .double(a.gUnitNS)),
                     ("state", .string(a.formed ? "formed" : "programmed")),
                     ("cells_differing_from_programmed", .int(Int64(zip(a.codes, chip.codes[ai]).filter { $0 != $1 }.count)))])
        }
        let readouts: [JSONValue] = p.readouts.map { r in
            .object([("name", .string(r.name)), ("source", .string(r.source)), ("classes", .int(Int64(r.classes))),
                     ("weight", typeJSON(r.weightType)), ("acc", typeJSON(r.accType)), ("acc_overflow", .string(r.accOverflow.rawValue)),
                     ("scale", .double(r.scale))])
        }
        let samples: [JSONValue] = cycles.indices.map { s in
            var o: [(String, JSONValue)] = [("sample", .int(Int64(s))), ("cycles", .int(cycles[s]))]
            if let l = data.samples[s].label { o.append(("label", .int(Int64(l)))) }
            let r = results[s]
            o.append(("spikes", .int(r.counters.spikes)))
            for ro in p.readouts { if let pr = r.prediction(ro.name) { o.append(("prediction.\(ro.name)", .int(Int64(pr)))) } }
            return .object(o)
        }
        let fileList: [JSONValue] = files.map { f in
            .object([("path", .string(f.path))] + f.entry + [("bytes", .int(Int64(f.data.count))), ("sha256", .string(SHA256.hex(f.data)))])
        }
        return .object([
            ("format", .string("neuroxbar-vectors")),
            ("format_version", .int(Int64(VectorSet.formatVersion))),
            ("tool", .string("neuroxbar")),
            ("version", .string(toolVersion)),
            ("documentation", .string("docs/vectors.md")),
            ("program", .object([("name", .string(p.name)), ("source", .string(source.program)), ("kind", .string(source.programKind)),
                                 ("ir_version", .int(Int64(p.version))), ("timesteps", .int(Int64(p.timesteps))),
                                 ("file", .string("program/program.xir"))])),
            ("target", .object([("name", .string(t.name)), ("argument", .string(source.targetArgument)), ("clock_mhz", .double(t.clockMHz)),
                                ("timing", timing)])),
            ("seed", .int(Int64(bitPattern: source.seed))),
            ("device", .object(deviceDoc)),
            ("input", .object([("source", .string(source.input)), ("channels", .int(Int64(data.channels))),
                               ("timesteps", .int(Int64(data.timesteps))), ("samples_in_file", .int(Int64(source.samplesInFile))),
                               ("samples", .int(Int64(data.samples.count))),
                               ("binding", .array(p.inputs.map { .string("@\($0.name)[\($0.size)]") }))])),
            ("cycles", .object([("total", .int(cycles.reduce(0, +))), ("per_sample", .array(samples))])),
            ("conventions", .object([
                ("cycle", .string("clock cycles count from 0 at the start of each sample's timestep 0 (the engine of docs/timing.md); the readout follows the last timestep")),
                ("vec", .string("text: lines starting with // are comments; every other line is one record, its fields in the order of `fields`, separated by one space; a field of b bits is ceil(b/4) lower-case hexadecimal digits of its b-bit two's complement (signed) or binary (unsigned) value; vectors (bitmaps) put bit n at value 2^n. Records are sorted by (sample, cycle, index). $readmemh reads a .vec file as a flat list of words: field f of record r is word r x F + f (F = number of fields)")),
                ("hex", .string("$readmemh text: one word per line, word_bits wide, lower-case hexadecimal, no address markers")),
                ("verilog", .string("tb/*.v are Verilog-2005 for Icarus Verilog 11 (iverilog -g2005)")),
            ])),
            ("populations", .array(pops)),
            ("arrays", .array(arrays)),
            ("readouts", .array(readouts)),
            ("ops", .array(p.step.enumerated().map { opJSON($0.offset, $0.element, chip.timing) })),
            ("vcd", .object([("file", .string("waves.vcd"))] + vcd)),
            ("files", .array(fileList)),
        ])
    }

    /// The synapse of a population (null without one); `neuron_bias` names its per-neuron bias memory.
    static func synapseJSON(_ n: NeuronDecl) -> JSONValue {
        guard let y = n.synapse else { return .null }
        return .object([("syn", typeJSON(y.type)), ("overflow", .string(y.overflow.rawValue)), ("decay_mul", .int(y.decayMul)),
                        ("decay_shift", .int(Int64(y.decayShift))), ("decay_rounding", .string(y.decayRounding.rawValue)),
                        ("bias", .int(y.bias)), ("neuron_bias", NeuronImage.synapseBiasPath(n).map { .string($0) } ?? .null)])
    }

    /// The IR neuron line (docs/ir.md) without its per-neuron bias block (those values are in the bias memories).
    static func neuronLine(_ n: NeuronDecl) -> String {
        var s = "neuron @\(n.name) \(n.size) mem \(n.memType) \(n.memOverflow.rawValue) decay \(n.decayMul) shr \(n.decayShift) \(n.decayRounding.rawValue)"
            + " threshold \(n.threshold) \(n.compare.rawValue) reset \(n.reset.rawValue) refractory \(n.refractory) \(n.refractoryType) bias \(n.bias) count \(n.countType)"
        if !n.spiking { s += " nonspiking" }
        if let y = n.synapse {
            s += " synapse \(y.type) \(y.overflow.rawValue) decay \(y.decayMul) shr \(y.decayShift) \(y.decayRounding.rawValue) bias \(y.bias)"
        }
        if n.neuronBias != nil || n.synapse?.neuronBias != nil { s += " biases" }
        return s
    }
}
