import CHDF5
import Foundation
import XbarCore
import XbarEvents

/// Reads the public N-TIDIGITS release (Anumula et al. 2018; `n-tidigits.hdf5`), the layout its loaders read (tonic,
/// ebdataset, events-tfds): for split S in `train`, `test`, a dataset `S_labels` of byte strings naming the recordings
/// (`gender-speaker-take-digits`, e.g. `man-ae-a-1`; digits 1-9, `z` zero, `o` oh), and groups `S_addresses` and
/// `S_timestamps` holding one dataset per name: the channels (0 ... 63) and the timestamps in seconds of its events.
/// Read it through `read(path:worker:)` (an isolated worker process: libhdf5 must not be able to hang or crash the
/// command; docs/experiment.md, "LSM-CLIP").
public enum NTIDIGITSReader {
    /// Largest recording accepted, in events (the longest N-TIDIGITS utterances have some 10^4).
    public static let maxEvents = 10_000_000

    /// Every recording of both splits, train first, each in the order of its split's labels.
    public static func read(path: String) throws -> [CochleaRecording] {
        _ = H5.silenced
        guard FileManager.default.fileExists(atPath: path) else { throw XbarError(file: path, field: "", "no such file") }
        guard H5Fis_hdf5(path) > 0 else { throw XbarError(file: path, field: "", "not an HDF5 file (or truncated/corrupt); expected n-tidigits.hdf5") }
        let file = H5Fopen(path, xbar_h5f_acc_rdonly(), xbar_h5p_default())
        guard file >= 0 else { throw XbarError(file: path, field: "", "cannot open HDF5 file (truncated or corrupt?)") }
        defer { H5Fclose(file) }
        var out: [CochleaRecording] = []
        for split in ["train", "test"] {
            let labels = try strings(file, "\(split)_labels", path: path)
            for name in labels {
                let channels = try numbers(file, "\(split)_addresses/\(name)", path: path)
                let seconds = try numbers(file, "\(split)_timestamps/\(name)", path: path)
                guard channels.count == seconds.count else {
                    throw XbarError(file: path, field: "\(split)_timestamps/\(name)",
                                    "\(seconds.count) timestamps for \(channels.count) addresses; expected one per event")
                }
                var events: [CochleaEvent] = []
                events.reserveCapacity(channels.count)
                for (c, t) in zip(channels, seconds) {
                    guard c >= 0, c < 256, c == c.rounded() else {
                        throw XbarError(file: path, field: "\(split)_addresses/\(name)", "channel \(c); expected an integer in 0 ... 255")
                    }
                    guard t.isFinite, t >= 0, t * 1e6 < Double(UInt32.max) else {
                        throw XbarError(file: path, field: "\(split)_timestamps/\(name)", "timestamp \(t) s; expected 0 ... 4294 s")
                    }
                    events.append(CochleaEvent(channel: UInt8(c), timestampUS: UInt32((t * 1e6).rounded())))
                }
                events.sort { ($0.timestampUS, $0.channel) < ($1.timestampUS, $1.channel) }
                out.append(CochleaRecording(test: split == "test", name: name, events: events))
            }
        }
        return out
    }

    static func dataset(_ loc: hid_t, _ name: String, path: String) throws -> H5Data {
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5.exists(loc, prefix) else {
                throw XbarError(file: path, field: name, "missing (expected the N-TIDIGITS layout: {train,test}_labels, _addresses/NAME, _timestamps/NAME)")
            }
        }
        let o = H5Oopen(loc, name, xbar_h5p_default())
        guard o >= 0 else { throw XbarError(file: path, field: name, "cannot open (truncated or corrupt file?)") }
        defer { H5Oclose(o) }
        guard H5Iget_type(o) == H5I_DATASET, let d = H5.readDataset(o) else { throw XbarError(file: path, field: name, "expected a readable dataset") }
        if case let .tooLarge(points, _) = d { throw XbarError(file: path, field: name, "holds \(points) values, more than the reader accepts") }
        return d
    }

    static func strings(_ loc: hid_t, _ name: String, path: String) throws -> [String] {
        guard case let .text(_, s) = try dataset(loc, name, path: path) else { throw XbarError(file: path, field: name, "expected strings") }
        for n in s where n.isEmpty || n.contains("/") || n.count > 256 {
            throw XbarError(file: path, field: name, "recording name \"\(n)\": expected 1 ... 256 characters without '/'")
        }
        return s
    }

    static func numbers(_ loc: hid_t, _ name: String, path: String) throws -> [Double] {
        guard case let .numbers(a) = try dataset(loc, name, path: path) else { throw XbarError(file: path, field: name, "expected numbers") }
        guard a.shape.count <= 1, a.values.count <= maxEvents else {
            throw XbarError(file: path, field: name, "shape \(a.shape); expected one dimension of at most \(maxEvents) events")
        }
        return a.values
    }

    /// `read(path:)` in the isolated worker `worker` (`xbar ntidigits-read-worker`, normally this program itself).
    public static func read(path: String, worker: URL) throws -> [CochleaRecording] {
        let data = try IsolatedWorker.run(path: path, worker: worker, arguments: ["ntidigits-read-worker", path],
                                          limit: try NIRIsolatedReader.limit(path), library: "the HDF5 library", reader: "N-TIDIGITS reader")
        return try CochleaEvents.decode(data)
    }

    /// The worker's side (`xbar ntidigits-read-worker FILE RESULT ERROR`).
    public static func runWorker(path: String, resultPath: String, errorPath: String) -> Int32 {
        IsolatedWorker.serve(resultPath: resultPath, errorPath: errorPath) { CochleaEvents.encode(try read(path: path)) }
    }
}
