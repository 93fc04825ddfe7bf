import Dispatch
import Foundation
import XbarCore
import XbarEvents

/// Which side of the published split a recording belongs to (N-MNIST's `Train` and `Test` folders).
public enum Split: String, CaseIterable, Sendable {
    case train = "Train"
    case test = "Test"
}

/// One labelled event recording and where it lives in an N-MNIST-style folder (`Train/3/00012.bin`).
public struct LabelledRecording: Sendable {
    public var split: Split
    public var label: Int
    /// Relative path inside the folder.
    public var name: String
    public var events: [NMNISTEvent]
}

/// How recordings become rasters (NMNIST.bin).
public struct BinOptions: Equatable, Sendable {
    public var timesteps = 50
    /// Recording length mapped onto the steps; nil = each recording's last timestamp + 1.
    public var durationUS: UInt32? = nil
    /// nil = the whole 34x34 field.
    public var crop: Crop? = Crop.paperCentre16
    public var polarity: PolarityFilter = .on
    public init() {}

    public var channels: Int { NMNIST.channelCount(crop: crop, polarity: polarity) }
}

/// Labelled rasters split into train and test, with the name of every sample.
public struct LabelledSet: Sendable {
    public var channels: Int
    public var timesteps: Int
    public var train: [SpikeRaster]
    public var test: [SpikeRaster]
    public var trainNames: [String]
    public var testNames: [String]
    /// Files that could not be read (path and reason), when loaded from a folder with `skip`.
    public var badFiles: [(path: String, message: String)] = []

    public init(channels: Int, timesteps: Int, train: [SpikeRaster], test: [SpikeRaster], trainNames: [String], testNames: [String]) {
        self.channels = channels
        self.timesteps = timesteps
        self.train = train
        self.test = test
        self.trainNames = trainNames
        self.testNames = testNames
    }

    /// Adds a named sample to its split.
    public mutating func append(_ raster: SpikeRaster, name: String, to split: Split) {
        if split == .train {
            train.append(raster)
            trainNames.append(name)
        } else {
            test.append(raster)
            testNames.append(name)
        }
    }

    /// The first `n` samples of each split whose index is spread evenly (every k-th), for quick runs.
    public func thinned(trainMax: Int?, testMax: Int?) -> LabelledSet {
        func pick<T>(_ v: [T], _ m: Int?) -> [T] {
            guard let m = m, m < v.count, m >= 0 else { return v }
            return (0..<m).map { v[$0 * v.count / max(1, m)] }
        }
        var s = self
        s.train = pick(train, trainMax)
        s.trainNames = pick(trainNames, trainMax)
        s.test = pick(test, testMax)
        s.testNames = pick(testNames, testMax)
        return s
    }

    /// Bins recordings (in the canonical order: split, label, name).
    public static func binning(_ recs: [LabelledRecording], _ o: BinOptions) -> LabelledSet {
        let sorted = canonicalOrder(recs)
        var set = LabelledSet(channels: o.channels, timesteps: o.timesteps, train: [], test: [], trainNames: [], testNames: [])
        for r in sorted {
            let raster = NMNIST.bin(r.events, timesteps: o.timesteps, durationUS: o.durationUS, crop: o.crop, polarity: o.polarity,
                                    label: r.label)
            set.append(raster, name: r.name, to: r.split)
        }
        return set
    }

    static func canonicalOrder(_ recs: [LabelledRecording]) -> [LabelledRecording] {
        recs.sorted { a, b in
            if a.split != b.split { return a.split == .train }
            if a.label != b.label { return a.label < b.label }
            return a.name < b.name
        }
    }
}

/// The 8x8 digits as an N-MNIST-format event set (simulated saccades), with a fixed seeded train/test split.
public enum DigitsEvents {
    /// Fraction of the rows that form the test split.
    public static let testFraction = 0.2

    /// Test rows: the `round(testFraction * n)` rows with the smallest Philox(splitSeed) uniform draw
    /// (purpose dataSplit, row, 0, 0).
    public static func testRows(count n: Int, splitSeed: UInt64) -> Set<Int> {
        let rng = Philox(seed: splitSeed)
        let order = (0..<n).sorted {
            let a = rng.uniform(purpose: RandomPurpose.dataSplit.rawValue, UInt32($0), 0, 0)
            let b = rng.uniform(purpose: RandomPurpose.dataSplit.rawValue, UInt32($1), 0, 0)
            return a != b ? a < b : $0 < $1
        }
        return Set(order.prefix(Int((testFraction * Double(n)).rounded())))
    }

    /// Every row converted (in parallel; the result does not depend on the thread count). Names are
    /// `Train/<label>/<row, 5 digits>.bin`.
    public static func recordings(_ rows: [(pixels: [UInt8], label: Int)], options: SaccadeOptions, splitSeed: UInt64,
                                  threads: Int = 0, progress: (@Sendable (Int, Int) -> Void)? = nil) -> [LabelledRecording] {
        let test = testRows(count: rows.count, splitSeed: splitSeed)
        let box = Slots<LabelledRecording>(rows.count)
        parallelFor(rows.count, threads: threads) { i in
            let split: Split = test.contains(i) ? .test : .train
            let name = "\(split.rawValue)/\(rows[i].label)/\(String(format: "%05d", i)).bin"
            let ev = Saccades.convert(pixels: rows[i].pixels, sampleIndex: i, options: options)
            box.set(i, LabelledRecording(split: split, label: rows[i].label, name: name, events: ev))
            progress?(box.done, rows.count)
        }
        return box.values
    }
}

/// Reads and writes N-MNIST-format folders: `ROOT/Train/<label>/*.bin` and `ROOT/Test/<label>/*.bin`
/// (the layout of the published N-MNIST archives; `train`/`test` in any case are accepted).
public enum NMNISTFolder {
    /// What to do with a file that cannot be read or decoded.
    public enum OnBadFile: String, CaseIterable, Sendable {
        /// Warn (one line naming the file), leave it out, count it, go on.
        case skip
        /// Stop with an error naming the file.
        case stop
    }

    /// (split, label, path) of every `.bin` file, in canonical order (split, label, file name).
    public static func list(_ root: String) throws -> [(split: Split, label: Int, path: String, name: String)] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw XbarError(file: root, field: "", "not a directory (expected an N-MNIST folder with Train/ and Test/)")
        }
        let top = (try? fm.contentsOfDirectory(atPath: root)) ?? []
        var out: [(Split, Int, String, String)] = []
        for split in Split.allCases {
            guard let dir = top.first(where: { $0.lowercased() == split.rawValue.lowercased() }) else {
                throw XbarError(file: root, field: split.rawValue, "missing folder \(split.rawValue)/ (expected \(root)/Train/<label>/*.bin and \(root)/Test/<label>/*.bin)")
            }
            let sp = (root as NSString).appendingPathComponent(dir)
            let labels = ((try? fm.contentsOfDirectory(atPath: sp)) ?? []).filter { !$0.hasPrefix(".") }
            for l in labels {
                let lp = (sp as NSString).appendingPathComponent(l)
                var d: ObjCBool = false
                guard fm.fileExists(atPath: lp, isDirectory: &d), d.boolValue else { continue }
                guard let label = Int(l), label >= 0 else {
                    throw XbarError(file: lp, field: "", "label folder name `\(l)` is not a non-negative integer")
                }
                for f in ((try? fm.contentsOfDirectory(atPath: lp)) ?? []) where f.lowercased().hasSuffix(".bin") {
                    out.append((split, label, (lp as NSString).appendingPathComponent(f), "\(split.rawValue)/\(l)/\(f)"))
                }
            }
        }
        out.sort { a, b in
            if a.0 != b.0 { return a.0 == .train }
            if a.1 != b.1 { return a.1 < b.1 }
            return a.3 < b.3
        }
        return out.map { (split: $0.0, label: $0.1, path: $0.2, name: $0.3) }
    }

    /// Reads one recording; an empty file counts as bad (a truncated download).
    public static func readRecording(_ path: String) throws -> [NMNISTEvent] {
        let ev = try NMNIST.read(path)
        guard !ev.isEmpty else { throw XbarError(file: path, field: "", "no events (empty or truncated file)") }
        return ev
    }

    /// Loads and bins a folder. A bad file is reported through `warn` and left out (`skip`) or ends the load with its
    /// error (`stop`). Decoding runs in parallel; the result does not depend on the thread count.
    public static func load(_ root: String, bin: BinOptions, onBadFile: OnBadFile, threads: Int = 0,
                            warn: @Sendable (String) -> Void = { _ in },
                            progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> LabelledSet {
        let files = try list(root)
        guard !files.isEmpty else { throw XbarError(file: root, field: "", "no .bin files under Train/<label>/ and Test/<label>/") }
        let box = Slots<Result<SpikeRaster, XbarError>>(files.count)
        let stopFlag = Flag()
        parallelFor(files.count, threads: threads) { i in
            if onBadFile == .stop && stopFlag.isSet { return }
            let f = files[i]
            do {
                let ev = try readRecording(f.path)
                box.set(i, .success(NMNIST.bin(ev, timesteps: bin.timesteps, durationUS: bin.durationUS, crop: bin.crop,
                                               polarity: bin.polarity, label: f.label)))
            } catch let e as XbarError {
                box.set(i, .failure(e))
                stopFlag.set()
            } catch {
                box.set(i, .failure(XbarError(file: f.path, field: "", "\(error)")))
                stopFlag.set()
            }
            progress?(box.done, files.count)
        }
        var set = LabelledSet(channels: bin.channels, timesteps: bin.timesteps, train: [], test: [], trainNames: [], testNames: [])
        for (i, f) in files.enumerated() {
            guard let r = box.slot(i) else { continue }
            switch r {
            case let .success(raster):
                set.append(raster, name: f.name, to: f.split)
            case let .failure(e):
                if onBadFile == .stop { throw e }
                warn("warning: skipping \(e.description)")
                set.badFiles.append((f.path, e.message))
            }
        }
        guard !set.train.isEmpty && !set.test.isEmpty else {
            throw XbarError(file: root, field: "", "no readable recordings in \(set.train.isEmpty ? "Train" : "Test")/ (\(set.badFiles.count) bad files)")
        }
        return set
    }

    /// Writes recordings as `root/<name>` (atomic per file), creating the folders.
    public static func write(_ recs: [LabelledRecording], to root: String) throws {
        let fm = FileManager.default
        for r in recs {
            let path = (root as NSString).appendingPathComponent(r.name)
            let dir = (path as NSString).deletingLastPathComponent
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw XbarError(file: dir, field: "", "cannot create folder: \(error.localizedDescription)")
            }
            try AtomicFile.write(NMNIST.encode(r.events), to: path)
        }
    }
}

final class Flag: @unchecked Sendable {
    private var v = false
    private let lock = NSLock()
    func set() { lock.lock(); v = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return v }
}

