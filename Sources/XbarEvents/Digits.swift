import XbarCore

/// The 8x8 handwritten digits set (scikit-learn's copy of UCI "Optical Recognition of Handwritten Digits")
/// and its deterministic Poisson-style rate encoding into spike rasters.
public enum Digits {
    /// Pixels per image (8x8).
    public static let pixelCount = 64
    /// Largest pixel value.
    public static let maxPixel = 16

    /// Loads the CSV: one row per image, 64 pixel values 0...16 then the label (a non-negative integer).
    /// Blank lines are skipped. Errors name the file and the line.
    public static func loadCSV(_ path: String) throws -> [(pixels: [UInt8], label: Int)] {
        try parseCSV(try AtomicFile.readText(path), file: path)
    }

    /// Parses CSV text as `loadCSV` does; `file` names the source in errors.
    public static func parseCSV(_ text: String, file: String) throws -> [(pixels: [UInt8], label: Int)] {
        var rows: [(pixels: [UInt8], label: Int)] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = raw.trimmingSuffix { $0 == "\r" || $0 == " " || $0 == "\t" }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == pixelCount + 1 else {
                throw XbarError(file: file, field: "line \(lineNumber)",
                                "expected \(pixelCount + 1) values (\(pixelCount) pixels and a label), found \(fields.count)")
            }
            var pixels: [UInt8] = []
            pixels.reserveCapacity(pixelCount)
            for (i, f) in fields.prefix(pixelCount).enumerated() {
                guard let v = Int(f.trimmingCharacters()), v >= 0, v <= maxPixel else {
                    throw XbarError(file: file, field: "line \(lineNumber)",
                                    "column \(i + 1): pixel `\(f.prefix(20))` is not an integer in 0...\(maxPixel)")
                }
                pixels.append(UInt8(v))
            }
            let labelText = fields[pixelCount].trimmingCharacters()
            guard let label = Int(labelText), label >= 0 else {
                throw XbarError(file: file, field: "line \(lineNumber)",
                                "column \(pixelCount + 1): label `\(labelText.prefix(20))` is not a non-negative integer")
            }
            rows.append((pixels, label))
        }
        return rows
    }

    /// Rate-encodes one image into a raster of `(8*upscale)^2` channels (256 for the default upscale 2).
    ///
    /// Each pixel becomes an `upscale x upscale` block; channel = row * (8*upscale) + col. Channel c spikes at step t
    /// iff `Philox(seed).uniform(purpose: eventEncoding, UInt32(sampleIndex), UInt32(c), UInt32(t)) < p` with
    /// p = (pixel / 16) * maxRate. `upscale` is clamped to 1...32; missing pixels count as 0; sizes below zero give
    /// an empty raster. The result depends only on its arguments.
    public static func rateEncode(pixels: [UInt8], label: Int, sampleIndex: Int, seed: UInt64, timesteps: Int,
                                  upscale: Int = 2, maxRate: Double = 0.25) -> SpikeRaster {
        let u = min(max(upscale, 1), 32)
        let side = 8 * u
        let steps = max(0, timesteps)
        var raster = SpikeRaster(channels: side * side, timesteps: steps, label: label)
        // Spike probability of every channel; channels of zero pixels never spike (uniform >= 0).
        var prob: [(channel: UInt32, p: Double)] = []
        for row in 0..<side {
            for col in 0..<side {
                let index = (row / u) * 8 + col / u
                let pixel = index < pixels.count ? pixels[index] : 0
                let p = Double(pixel) / 16.0 * maxRate
                if p > 0 { prob.append((UInt32(row * side + col), p)) }
            }
        }
        let rng = Philox(seed: seed)
        let purpose = RandomPurpose.eventEncoding.rawValue
        let sample = UInt32(truncatingIfNeeded: sampleIndex)
        for t in 0..<steps {
            var list: [Int32] = []
            for (c, p) in prob where rng.uniform(purpose: purpose, sample, c, UInt32(truncatingIfNeeded: t)) < p {
                list.append(Int32(c))
            }
            raster.active[t] = list
        }
        return raster
    }

    /// Encodes the rows at `indices` (clamped to the rows present) with sampleIndex = row index, as `rateEncode`.
    public static func encode(_ rows: [(pixels: [UInt8], label: Int)], indices: Range<Int>, seed: UInt64,
                              timesteps: Int, upscale: Int = 2, maxRate: Double = 0.25) -> EventDataset {
        let lo = min(max(indices.lowerBound, 0), rows.count)
        let hi = min(max(indices.upperBound, lo), rows.count)
        let u = min(max(upscale, 1), 32)
        let samples = (lo..<hi).map { i in
            rateEncode(pixels: rows[i].pixels, label: rows[i].label, sampleIndex: i, seed: seed,
                       timesteps: timesteps, upscale: u, maxRate: maxRate)
        }
        return EventDataset(channels: 64 * u * u, timesteps: max(0, timesteps), samples: samples)
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while drop: (Character) -> Bool) -> Substring {
        var s = self
        while let last = s.last, drop(last) { s = s.dropLast() }
        return s
    }

    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        return s.trimmingSuffix { $0 == " " || $0 == "\t" || $0 == "\r" }
    }
}
