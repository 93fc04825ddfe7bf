import Foundation
import XbarCore
import XbarEmulator
import XbarEvents
import XbarIR
import XbarTarget

/// Where a vector set came from (written into the manifest).
public struct VectorSource: Sendable {
    /// The program argument as given (a graph .json or an IR .xir file).
    public var program: String
    /// `graph` (compiled by `xbar vectors`) or `ir`.
    public var programKind: String
    /// The target argument as given, and the loaded target.
    public var targetArgument: String
    public var target: Target
    public var input: String
    public var samplesInFile: Int
    public var seed: UInt64
    /// True when the chip reads the programmed codes exactly (`--ideal-device`).
    public var idealDevice: Bool
    public var ageS: Double?

    public init(program: String, programKind: String, targetArgument: String, target: Target, input: String, samplesInFile: Int,
                seed: UInt64, idealDevice: Bool, ageS: Double?) {
        self.program = program
        self.programKind = programKind
        self.targetArgument = targetArgument
        self.target = target
        self.input = input
        self.samplesInFile = samplesInFile
        self.seed = seed
        self.idealDevice = idealDevice
        self.ageS = ageS
    }
}

/// The repository's Verilog: the LIF neuron unit and the testbench template (rtl/, docs/vectors.md).
public struct RTLSources: Sendable {
    public var unit: String
    public var testbenchTemplate: String
    /// The registered neuron models' RTL (`ModelRTL` unit and testbench), by file name.
    public var modelFiles: [String: String]
    public init(unit: String, testbenchTemplate: String, modelFiles: [String: String] = [:]) {
        self.unit = unit
        self.testbenchTemplate = testbenchTemplate
        self.modelFiles = modelFiles
    }

    public static let unitFile = "xbar_lif_unit.v"
    public static let templateFile = "xbar_lif_tb.v"
}

/// One output file: path relative to the vector directory, its bytes and its manifest entry (without hash/size).
public struct VectorFile: Sendable {
    public var path: String
    public var data: Data
    var entry: [(String, JSONValue)]
}

/// A complete vector set: every file plus the manifest (docs/vectors.md).
public struct VectorSet: Sendable {
    public var files: [VectorFile]
    public var manifest: JSONValue
    /// Per-sample cycle counts.
    public var cycles: [Int64]
    public var results: [SampleResult]

    public static let manifestName = "manifest.json"
    public static let formatVersion = 1

    /// Writes the files and the manifest under `dir` (created if needed).
    public func write(to dir: String) throws {
        let fm = FileManager.default
        for f in files + [VectorFile(path: VectorSet.manifestName, data: Data((manifest.serialized() + "\n").utf8), entry: [])] {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(f.path)
            do {
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw XbarError(file: url.deletingLastPathComponent().path, field: "", "cannot create directory: \(error.localizedDescription)")
            }
            try AtomicFile.write(f.data, to: url.path)
            if f.path.hasSuffix(".sh") { _ = chmod(url.path, 0o755) }
        }
    }

    /// Every file including the manifest, as (path, bytes).
    public var allFiles: [(String, Data)] {
        files.map { ($0.path, $0.data) } + [(VectorSet.manifestName, Data((manifest.serialized() + "\n").utf8))]
    }
}

/// Builds the vector set of a program run on one chip instance with the cycle engine, signals on.
public enum VectorBuilder {
    /// Signals of the cycle engine, resolved once per name.
    static func bitsFor(_ n: Int) -> Int {
        var b = 1
        while (1 << b) <= n { b += 1 }
        return b
    }

    public static func build(program p: Program, chip: Chip, data: EventDataset, source: VectorSource, rtl: RTLSources) throws -> VectorSet {
        guard !p.isPlastic else {
            throw XbarError(file: source.program, field: "step", "program \"\(p.name)\" has stdp ops: the RTL has no learning unit yet, so it gets no test vectors")
        }
        let binding = try InputBinding(program: p, channels: data.channels, file: source.input)
        guard data.timesteps == p.timesteps else {
            throw XbarError(file: source.input, field: "timesteps", "input has \(data.timesteps) timesteps, program \"\(p.name)\" runs \(p.timesteps)")
        }
        let spec = chip.timing.spec
        let engine = CycleEngine(chip: chip)
        let opIndex = Dictionary(uniqueKeysWithValues: p.step.enumerated().map { ($0.element.result, $0.offset) })
        let arrayIndex = Dictionary(uniqueKeysWithValues: p.arrays.enumerated().map { ($0.element.name, $0.offset) })
        // Array of each read/adc op; the lif of each population and its input type.
        var arrayOfOp = [Int?](repeating: nil, count: p.step.count)
        for (k, op) in p.step.enumerated() {
            switch op.kind {
            case let .read(a, _, _, _, _, _): arrayOfOp[k] = arrayIndex[a]
            case let .adc(x, _, _, _, _): arrayOfOp[k] = arrayOfOp[opIndex[x]!]
            default: break
            }
        }
        var lifOp = [Int](repeating: -1, count: p.neurons.count)
        var inputType = [IntType](repeating: .i(1), count: p.neurons.count)
        for (k, op) in p.step.enumerated() {
            if case let .lif(pop, input) = op.kind, let ni = p.neurons.firstIndex(where: { $0.name == pop }) {
                lifOp[ni] = k
                inputType[ni] = p.step[opIndex[input]!].type
            }
        }

        // ---- Tables and VCD declarations.
        let tables = VectorTables.declare(program: p, opIndex: opIndex, inputType: inputType)
        let periodPS = 2 * max(1, Int64((500_000.0 / source.target.clockMHz).rounded()))
        let vcd = VCDBuilder(periodPS: periodPS)
        let layout = VCDLayout.declare(vcd, program: p, spec: spec, arrayOfOp: arrayOfOp, opIndex: opIndex,
                                       digitalOps: p.step.indices.filter { tables.accs[$0] != nil }, inputType: inputType)
        // ---- Run every sample with signals and fill the tables and the VCD.
        let replay = SampleReplay(p: p, spec: spec, binding: binding, arrayOfOp: arrayOfOp, opIndex: opIndex, tables: tables,
                                  vcd: vcd, layout: layout)
        var cycles: [Int64] = []
        var results: [SampleResult] = []
        let anySynapse = p.neurons.contains { $0.synapse != nil }
        var offset: Int64 = 0
        for (s, raster) in data.samples.enumerated() {
            // The synaptic current of each update comes from the engine's synaptic trace (docs/ir.md, "lif").
            let (run, sig) = engine.run(raster, index: s, binding: binding, trace: anySynapse, signals: true)
            var res = run
            let synTrace = p.neurons.map { res.traces[$0.name]?.synapse ?? [] }
            res.traces = [:]
            results.append(res)
            guard res.counters.cycles < (1 << 32) else {
                throw XbarError(file: source.input, field: "sample \(s)", "\(res.counters.cycles) cycles do not fit the 32-bit cycle field")
            }
            replay.replay(sample: s, raster, signals: sig, synapseTrace: synTrace, offset: offset)
            cycles.append(res.counters.cycles)
            offset += res.counters.cycles
        }

        // ---- Program image.
        var files = programImage(p, chip: chip)

        // ---- Vector files.
        files += tableFiles(tables.all(ops: p.step.count))

        // ---- VCD.
        let (vcdEntry, vcdDoc) = vcdFile(vcd, end: offset, periodPS: periodPS,
                                         comment: "neuroxbar vectors: program \(p.name) on \(source.target.name), seed \(source.seed), \(data.samples.count) sample(s)")
        files.append(vcdEntry)

        // ---- RTL cross-check testbenches.
        files += testbenchFiles(p, rtl: rtl, spec: spec, lifOp: lifOp, inputType: inputType, lifs: tables.lifs)
        files += try ModelVectors.files(p, chip: chip, data: data, binding: binding, rtl: rtl)

        // ---- Manifest.
        let manifest = Manifest.json(program: p, chip: chip, data: data, source: source, files: files, cycles: cycles, results: results,
                                     inputType: inputType, vcd: vcdDoc)
        return VectorSet(files: files, manifest: manifest, cycles: cycles, results: results)
    }

    /// The program image: the IR text, every array's programmed and realised codes, the neuron and readout memories.
    static func programImage(_ p: Program, chip: Chip) -> [VectorFile] {
        var files: [VectorFile] = []
        let programText = IRPrinter.print(p)
        files.append(VectorFile(path: "program/program.xir", data: Data(programText.utf8), entry: [
            ("role", .string("program")), ("format", .string("xbar-ir")),
            ("description", .string("the IR program the vectors were made from (docs/ir.md); the arrays in it hold the programmed codes")),
        ]))
        for (ai, a) in p.arrays.enumerated() {
            let realised = chip.codes[ai]
            let rmax = Int(realised.max() ?? 0)
            let rbits = max(a.codeType.bits, bitsFor(max(rmax, 1)))
            for (kind, codes, bits, what) in [("programmed", a.codes, a.codeType.bits, a.formed ? "the codes printed in the IR (the read-back state of the electroformed cells, which are not programmed)" : "the programming targets (codes printed in the IR)"),
                                               ("realised", realised, rbits, "the realised codes every read sees before per-read noise: after programming/forming, stuck-at faults, relaxation to the read age and IR drop (docs/device.md), for this seed")] {
                var s: [UInt8] = []
                s.reserveCapacity(codes.count * ((bits + 3) / 4 + 1))
                for c in codes { Hex.append(Int64(c), bits: bits, to: &s); s.append(10) }
                files.append(VectorFile(path: "program/array.\(a.name).\(kind).hex", data: Data(s), entry: [
                    ("role", .string("program")), ("format", .string("readmemh")),
                    ("description", .string("array %\(a.name) (macro \(a.macro) index \(a.index)): \(what); one code per line, address = row x \(a.cols) + column")),
                    ("words", .int(Int64(codes.count))), ("word_bits", .int(Int64(bits))), ("signed", .bool(false)),
                    ("rows", .int(Int64(a.rows))), ("cols", .int(Int64(a.cols))), ("unit_ns", .double(a.gUnitNS)),
                    ("verilog", .string("reg [\(bits - 1):0] mem [0:\(codes.count - 1)]; initial $readmemh(\"program/array.\(a.name).\(kind).hex\", mem);")),
                ]))
            }
        }
        for n in p.neurons { files += NeuronImage.files(n) }
        for r in p.readouts {
            var w = "", b = ""
            for x in r.weights { w += Hex.word(Int64(x), bits: r.weightType.bits) + "\n" }
            for x in r.bias { b += Hex.word(Int64(x), bits: r.accType.bits) + "\n" }
            let n = r.classes == 0 ? 0 : r.weights.count / r.classes
            files.append(VectorFile(path: "program/readout.\(r.name).weights.hex", data: Data(w.utf8), entry: [
                ("role", .string("program")), ("format", .string("readmemh")),
                ("description", .string("readout @\(r.name) weights W[k][j] (\(r.weightType), two's complement), address = k x \(n) + j")),
                ("words", .int(Int64(r.weights.count))), ("word_bits", .int(Int64(r.weightType.bits))), ("signed", .bool(true)),
            ]))
            files.append(VectorFile(path: "program/readout.\(r.name).bias.hex", data: Data(b.utf8), entry: [
                ("role", .string("program")), ("format", .string("readmemh")),
                ("description", .string("readout @\(r.name) biases b[k] in accumulator units (\(r.accType), two's complement), address = k")),
                ("words", .int(Int64(r.bias.count))), ("word_bits", .int(Int64(r.accType.bits))), ("signed", .bool(r.accType.signed)),
            ]))
        }
        return files
    }

    /// The vector files of `tables`, in that order.
    static func tableFiles(_ tables: [VecTable]) -> [VectorFile] {
        tables.map { t in
            VectorFile(path: t.path, data: t.data, entry: [
                ("role", .string(t.role)), ("format", .string("vec")), ("description", .string(t.description)),
                ("records", .int(Int64(t.count))), ("fields", .array(t.fields.map { $0.json })),
            ])
        }
    }

    /// The VCD file of the whole run (`end`: its last cycle) and its manifest entry `vcd`.
    static func vcdFile(_ vcd: VCDBuilder, end: Int64, periodPS: Int64, comment: String) -> (VectorFile, [(String, JSONValue)]) {
        let vcdText = vcd.finish(end: end, comment: comment)
        var sigs: [JSONValue] = []
        for v in vcd.vars {
            sigs.append(.object([("name", .string(vcd.fullName(v))), ("width", .int(Int64(v.width))), ("signed", .bool(v.signed)),
                                 ("description", .string(v.description))]))
        }
        let vcdDoc: [(String, JSONValue)] = [("timescale", .string("1ps")), ("period_ps", .int(periodPS)),
                  ("timing", .string("cycle c of sample s occupies [(O_s + c) x period_ps, (O_s + c + 1) x period_ps) with O_s the sum of the cycles of the samples before s; clk rises at the start of each cycle; a value recorded at cycle c changes at that rising edge; valid/step_start/lane_en/adc_valid pulse for one cycle, wl for the read's duration; data lanes hold their last value")),
                  ("signals", .array(sigs))]
        let file = VectorFile(path: "waves.vcd", data: Data(vcdText.utf8), entry: [
            ("role", .string("waveform")), ("format", .string("vcd")),
            ("description", .string("the macro's interface signals over all samples (IEEE 1364 VCD, opens in GTKWave); signals listed under vcd.signals")),
        ])
        return (file, vcdDoc)
    }

    /// The RTL cross-check: the neuron unit, one self-checking testbench per population with a lif, and the script
    /// that runs them.
    static func testbenchFiles(_ p: Program, rtl: RTLSources, spec: TimingSpec, lifOp: [Int], inputType: [IntType],
                               lifs: [VecTable]) -> [VectorFile] {
        var files: [VectorFile] = []
        files.append(VectorFile(path: "tb/\(RTLSources.unitFile)", data: Data(rtl.unit.utf8), entry: [
            ("role", .string("rtl")), ("format", .string("verilog")),
            ("description", .string("the repository's Verilog model of the LIF neuron unit (rtl/xbar_lif_unit.v), copied as the default device under test")),
        ]))
        var scripts = RTLSimulator.allCases.map { $0.scriptHead("Runs the generated LIF testbenches") + "DUT=${DUT:-tb/\(RTLSources.unitFile)}\n" }
        for (i, n) in p.neurons.enumerated() where lifOp[i] >= 0 {
            let tb = Testbench.generate(template: rtl.testbenchTemplate, population: n, inputType: inputType[i], lanes: min(spec.neuronUnits, n.size),
                                        records: lifs[i].count, vecPath: lifs[i].path)
            let path = "tb/tb_lif.\(n.name).v"
            files.append(VectorFile(path: path, data: Data(tb.utf8), entry: [
                ("role", .string("testbench")), ("format", .string("verilog")),
                ("description", .string("self-checking testbench of @\(n.name) (template rtl/xbar_lif_tb.v with this program's parameters): replays \(lifs[i].path), feeding `in` of each group at its cycle into the neuron unit, and compares mem, spike, refr, count\(n.synapse == nil ? "" : " and syn") of every neuron update\(NeuronImage.biasPath(n) == nil && NeuronImage.synapseBiasPath(n) == nil ? "" : " after loading the per-neuron bias memories"); prints PASS or the first MISMATCH (cycle, signal, expected, got)")),
                ("run", .string("iverilog -g2005 -o tb/tb_lif.\(n.name).vvp \(path) tb/\(RTLSources.unitFile) && vvp -n tb/tb_lif.\(n.name).vvp   (from the vector directory)")),
            ]))
            for (k, sim) in RTLSimulator.allCases.enumerated() {
                scripts[k] += sim.build(name: "tb_lif.\(n.name)", top: "xbar_lif_tb", sources: [path, "\"$DUT\""], standard: 2005)
                    + sim.run(name: "tb_lif.\(n.name)", args: "", log: "tb/tb_lif.\(n.name)\(sim == .iverilog ? "" : ".verilator").log")
            }
        }
        for (k, sim) in RTLSimulator.allCases.enumerated() {
            files.append(VectorFile(path: "tb/run_\(sim.rawValue).sh", data: Data(scripts[k].utf8), entry: [
                ("role", .string("testbench")), ("format", .string("sh")),
                ("description", .string("compiles and runs every testbench with \(sim.displayName); DUT=path.v substitutes another neuron unit with the same ports")),
            ]))
        }
        return files
    }
}

/// The VCD variables of a vector set (docs/vectors.md, "VCD"): sample and step, one scope per array (word lines, ADC
/// channels), the digital unit's lanes, each population's neuron lanes and queue, each readout's accumulators.
struct VCDLayout {
    struct ArrayVars { var scope: String; var wl: Int; var readOp: Int; var adcValid: Int; var adcOp: Int; var chans: [Int: (col: Int, code: Int)] }
    struct PopVars { var valid: Int; var base: Int; var en: Int; var inp: [Int]; var mem: [Int]; var spike: [Int]; var refr: [Int]; var count: [Int]; var syn: [Int]; var queue: Int; var lanes: Int }
    struct ReadoutVars { var valid: Int; var y: [Int] }
    var vSample = -1, vStep = -1, vStepStart = -1
    var arrayVars: [ArrayVars] = []
    var dValid = -1, dOp = -1, dBase = -1, dEn = -1, dLane: [Int] = []
    var popVars: [PopVars] = []
    var roVars: [ReadoutVars] = []

    /// Declares every variable in `vcd`. `digitalOps`: the add/sub/scale ops (their lanes share the digital unit).
    static func declare(_ vcd: VCDBuilder, program p: Program, spec: TimingSpec, arrayOfOp: [Int?], opIndex: [String: Int],
                        digitalOps: [Int], inputType: [IntType]) -> VCDLayout {
        var layout = VCDLayout()
        var scopeNames = Set<String>()
        func scopeName(_ prefix: String, _ name: String) -> String {
            var s = prefix + String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
            var n = 1
            while scopeNames.contains(s) { n += 1; s = prefix + String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }) + "_\(n)" }
            scopeNames.insert(s)
            return s
        }
        let vSample = vcd.declare(["xbar"], "sample", width: 32, "sample index (samples follow each other in time)")
        let vStep = vcd.declare(["xbar"], "step", width: 32, "current timestep")
        let vStepStart = vcd.declare(["xbar"], "step_start", width: 1, "1 in the first cycle of every timestep")
        var arrayVars: [ArrayVars] = []
        for (ai, a) in p.arrays.enumerated() {
            let sc = scopeName("array_", a.name)
            let wl = vcd.declare(["xbar", sc], "wl", width: a.rows, "word lines (bit r = row r), held for the read's duration")
            let ro = vcd.declare(["xbar", sc], "read_op", width: 16, "op index of the last fired read")
            let av = vcd.declare(["xbar", sc], "adc_valid", width: 1, "1 in a cycle where a conversion round ends")
            let ao = vcd.declare(["xbar", sc], "adc_op", width: 16, "op index of the adc op converting")
            var chanSet = Set<Int>()
            var codeBits = 1
            for (k, op) in p.step.enumerated() where arrayOfOp[k] == ai {
                if case let .adc(x, _, _, _, _) = op.kind, case let .read(_, _, c0, _, _, _) = p.step[opIndex[x]!].kind {
                    for j in 0..<op.length { chanSet.insert((c0 + j) / spec.colsPerADC) }
                    codeBits = max(codeBits, op.type.bits)
                }
            }
            var chans: [Int: (Int, Int)] = [:]
            let colBits = VectorBuilder.bitsFor(max(a.cols - 1, 1))
            for ch in chanSet.sorted() {
                let c = vcd.declare(["xbar", sc], "adc\(ch)_col", width: colBits, "absolute column converted by ADC \(ch)")
                let d = vcd.declare(["xbar", sc], "adc\(ch)_code", width: codeBits, "code of that column")
                chans[ch] = (c, d)
            }
            arrayVars.append(ArrayVars(scope: sc, wl: wl, readOp: ro, adcValid: av, adcOp: ao, chans: chans))
        }
        let anySigned = digitalOps.contains { p.step[$0].type.signed }
        let digW = digitalOps.map { p.step[$0].type.bits + (anySigned && !p.step[$0].type.signed ? 1 : 0) }.max() ?? 1
        let digLanes = min(spec.digitalLanes, digitalOps.map { p.step[$0].length }.max() ?? 1)
        var dValid = -1, dOp = -1, dBase = -1, dEn = -1, dLane: [Int] = []
        if !digitalOps.isEmpty {
            dValid = vcd.declare(["xbar", "digital"], "valid", width: 1, "1 in a cycle where the shift-add unit computes a lane chunk")
            dOp = vcd.declare(["xbar", "digital"], "op", width: 16, "op index")
            dBase = vcd.declare(["xbar", "digital"], "base", width: 32, "element of lane 0")
            dEn = vcd.declare(["xbar", "digital"], "lane_en", width: digLanes, "bit k = lane k holds element base + k")
            dLane = (0..<digLanes).map { vcd.declare(["xbar", "digital"], "lane\($0)", width: digW, signed: anySigned, "result element base + \($0) (\(anySigned ? "two's complement" : "unsigned"), \(digW) bits)") }
        }
        var popVars: [PopVars] = []
        for (i, n) in p.neurons.enumerated() {
            let sc = scopeName("neuron_", n.name)
            let lanes = min(spec.neuronUnits, n.size)
            let valid = vcd.declare(["xbar", sc], "valid", width: 1, "1 in a cycle where a neuron group leaves the pipeline")
            let base = vcd.declare(["xbar", sc], "base", width: 32, "neuron of lane 0")
            let en = vcd.declare(["xbar", sc], "lane_en", width: lanes, "bit k = lane k holds neuron base + k")
            var inp: [Int] = [], mem: [Int] = [], spk: [Int] = [], rf: [Int] = [], cn: [Int] = [], sy: [Int] = []
            for k in 0..<lanes {
                inp.append(vcd.declare(["xbar", sc], "in\(k)", width: inputType[i].bits, signed: inputType[i].signed, "input current (\(inputType[i]))"))
                mem.append(vcd.declare(["xbar", sc], "mem\(k)", width: n.memType.bits, signed: true, "membrane after the update (\(n.memType))"))
                spk.append(vcd.declare(["xbar", sc], "spike\(k)", width: 1, "spike"))
                rf.append(vcd.declare(["xbar", sc], "refr\(k)", width: n.refractoryType.bits, "refractory counter (\(n.refractoryType))"))
                cn.append(vcd.declare(["xbar", sc], "count\(k)", width: n.countType.bits, "spike count (\(n.countType))"))
                if let y = n.synapse { sy.append(vcd.declare(["xbar", sc], "syn\(k)", width: y.type.bits, signed: true, "synaptic current after the update (\(y.type))")) }
            }
            let q = vcd.declare(["xbar", sc], "queue", width: 32, "spike queue occupancy")
            popVars.append(PopVars(valid: valid, base: base, en: en, inp: inp, mem: mem, spike: spk, refr: rf, count: cn, syn: sy, queue: q, lanes: lanes))
        }
        var roVars: [ReadoutVars] = []
        for r in p.readouts {
            let sc = scopeName("readout_", r.name)
            let v = vcd.declare(["xbar", sc], "valid", width: 1, "1 in the readout's last cycle")
            let y = (0..<r.classes).map { vcd.declare(["xbar", sc], "y\($0)", width: r.accType.bits, signed: r.accType.signed, "accumulator of class \($0) (\(r.accType))") }
            roVars.append(ReadoutVars(valid: v, y: y))
        }
        layout.vSample = vSample
        layout.vStep = vStep
        layout.vStepStart = vStepStart
        layout.arrayVars = arrayVars
        (layout.dValid, layout.dOp, layout.dBase, layout.dEn, layout.dLane) = (dValid, dOp, dBase, dEn, dLane)
        layout.popVars = popVars
        layout.roVars = roVars
        return layout
    }
}

/// The record tables of a vector set (docs/vectors.md, "Files"): stimulus (steps, inputs, op issue, word lines) and
/// response (ADC codes, digital results, neuron updates, queues, readouts), empty until the run fills them.
struct VectorTables {
    let steps: VecTable
    let inputs: [VecTable]
    let issue: VecTable
    let wls: [VecTable]
    /// By op index: adc ops, and add/sub/scale ops.
    let adcs: [Int: VecTable]
    let accs: [Int: VecTable]
    let lifs: [VecTable]
    let queues: [VecTable]
    let readouts: [VecTable]

    /// Every table in file order (`ops`: the program's step length).
    func all(ops: Int) -> [VecTable] {
        var t: [VecTable] = [steps] + inputs + [issue] + wls
        for k in 0..<ops { if let a = adcs[k] { t.append(a) }; if let a = accs[k] { t.append(a) } }
        return t + lifs + queues + readouts
    }

    static func declare(program p: Program, opIndex: [String: Int], inputType: [IntType]) -> VectorTables {
        let sample = VecField.key("sample", "sample index in the input file (0-based)")
        let cycle = VecField.key("cycle", "clock cycle within the sample; timestep 0 starts at cycle 0")
        let stepF = VecField.key("step", "timestep")
        let steps = VecTable(path: "stimulus/steps.vec", role: "stimulus",
                             description: "the cycle each timestep starts (one record per timestep)", fields: [sample, cycle, stepF])
        let inputs = p.inputs.map { i in
            VecTable(path: "stimulus/input.\(i.name).vec", role: "stimulus",
                     description: "event input @\(i.name): the spike vector of each timestep (bit n = channel n), recorded at the step's first cycle; a read with delay d sees the vector of step t - d",
                     fields: [sample, cycle, stepF, VecField("spikes", bits: i.size, role: .value, signal: "input.\(i.name)", "bit n = 1 if channel n spikes in this step")])
        }
        let issue = VecTable(path: "stimulus/issue.vec", role: "stimulus",
                             description: "control: op issue; op (index in manifest ops[]) starts at this cycle for `duration` cycles (0: wiring, idle read or unfired ADC; -1: lif, which ends when its last group leaves the pipeline)",
                             fields: [sample, cycle, VecField.index("op", "op index (manifest ops[])"),
                                      VecField("duration", bits: 32, signed: true, role: .value, signal: "issue", "cycles the op occupies its resource")])
        let wls = p.arrays.map { a in
            VecTable(path: "stimulus/wl.\(a.name).vec", role: "stimulus",
                     description: "word lines of array %\(a.name) driven by a fired read: asserted from this cycle for the read's duration (settle + integrate); bit r = row r",
                     fields: [sample, cycle, VecField.index("op", "the read op (manifest ops[])"),
                              VecField("rows", bits: a.rows, role: .value, signal: "wl.\(a.name)", "bit r = 1 if word line r is driven")])
        }
        var adcs: [Int: VecTable] = [:], accs: [Int: VecTable] = [:]
        for (k, op) in p.step.enumerated() {
            switch op.kind {
            case let .adc(x, bits, _, _, _):
                guard case let .read(a, _, c0, _, _, _) = p.step[opIndex[x]!].kind else { continue }
                adcs[k] = VecTable(path: "response/adc.\(op.result).vec", role: "response",
                                   description: "ADC codes of op %\(op.result) (\(bits)-bit, array %\(a), absolute column = \(c0) + column), one record per conversion, at the cycle its conversion round ends",
                                   fields: [sample, cycle, VecField.index("column", "column within the op (0 ..< \(op.length))"),
                                            VecField("code", bits: op.type.bits, signed: op.type.signed, role: .value, signal: "adc.\(op.result)", "ADC output code (\(op.type))")])
            case .add, .sub, .scale:
                accs[k] = VecTable(path: "response/acc.\(op.result).vec", role: "response",
                                   description: "digital shift-add unit output of op %\(op.result) (\(op.kind.mnemonic)), one record per element, at the cycle its lane chunk is computed",
                                   fields: [sample, cycle, VecField.index("element", "element (0 ..< \(op.length))"),
                                            VecField("value", bits: op.type.bits, signed: op.type.signed, role: .value, signal: "acc.\(op.result)", "result (\(op.type))")])
            default: break
            }
        }
        let lifs = p.neurons.enumerated().map { (i, n) in
            VecTable(path: "response/lif.\(n.name).vec", role: "response",
                     description: "neuron updates of @\(n.name): one record per neuron per timestep, at the cycle its group leaves the LIF pipeline; `in` is the lif op's input current, mem/refr/count\(n.synapse == nil ? "" : "/syn") the state after the update\(n.spiking ? "" : " (non-spiking: spike, refr and count stay 0)")",
                     fields: [sample, cycle, stepF, VecField.index("neuron", "neuron (0 ..< \(n.size))"),
                              VecField("in", bits: inputType[i].bits, signed: inputType[i].signed, role: .value, signal: "in.\(n.name)", "input current I of this step (membrane LSBs)"),
                              VecField("mem", bits: n.memType.bits, signed: n.memType.signed, role: .value, signal: "mem.\(n.name)", "membrane after the update (after reset)"),
                              VecField("spike", bits: 1, role: .value, signal: "spike.\(n.name)", "1 if the neuron spiked this step"),
                              VecField("refr", bits: n.refractoryType.bits, role: .value, signal: "refr.\(n.name)", "refractory steps left after the update"),
                              VecField("count", bits: n.countType.bits, role: .value, signal: "count.\(n.name)", "spike count over the sample (saturating)")]
                        + (n.synapse.map { [VecField("syn", bits: $0.type.bits, signed: true, role: .value, signal: "syn.\(n.name)",
                                                     "synaptic current after this step's update (it integrates every step, refractory or not)")] } ?? []))
        }
        let queues = p.neurons.map { n in
            VecTable(path: "response/queue.\(n.name).vec", role: "response",
                     description: "spike queue occupancy of @\(n.name) after each pipeline exit attempt (including stalled ones)",
                     fields: [sample, cycle, VecField("occupancy", bits: 32, role: .value, signal: "queue.\(n.name)", "spikes in the queue")])
        }
        let readouts = p.readouts.map { r in
            VecTable(path: "response/readout.\(r.name).vec", role: "response",
                     description: "readout @\(r.name) accumulators y[k] after the last timestep, at the readout's last cycle",
                     fields: [sample, cycle, VecField.index("class", "class k (0 ..< \(r.classes))"),
                              VecField("value", bits: r.accType.bits, signed: r.accType.signed, role: .value, signal: "readout.\(r.name)", "y[k] (\(r.accType))")])
        }
        return VectorTables(steps: steps, inputs: inputs, issue: issue, wls: wls, adcs: adcs, accs: accs, lifs: lifs,
                            queues: queues, readouts: readouts)
    }
}
