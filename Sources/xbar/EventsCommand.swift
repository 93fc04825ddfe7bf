import ArgumentParser
import Foundation
import XbarCore
import XbarEvents

/// `xbar events`: make and inspect spike-event files (.xev, specified in docs/events.md).
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Make and inspect spike-event files (.xev): digits rate encoding, N-MNIST conversion, summaries.",
        subcommands: [DigitsCommand.self, NMNISTCommand.self, RandomCommand.self, InfoCommand.self]
    )
}

/// Runs `body`, turning an `XbarError` into one line on stderr and exit status 1.
private func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as XbarError {
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        throw ExitCode.failure
    }
}

extension EventsCommand {
    /// `xbar events digits`: rate-encode rows of the 8x8 digits CSV into a .xev file.
    struct DigitsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "digits",
            abstract: "Rate-encode the 8x8 digits set (upscaled to 16x16 = 256 channels) into a .xev file."
        )

        @Option(help: "Digits CSV (64 pixels 0..16, then the label, per row).")
        var csv = "examples/digits/digits.csv"
        @Option(help: "Output .xev file.")
        var out: String
        @Option(help: "Seed of the Philox generator.")
        var seed: UInt64 = 1
        @Option(help: "Time steps per sample.")
        var timesteps = 50
        @Option(help: "Encode only the first N rows (default: all).")
        var first: Int?
        @Option(help: "Encode only the last N rows (sample indices stay the dataset indices).")
        var last: Int?
        @Option(help: "Spike probability per step of a pixel of value 16.")
        var maxRate = 0.25
        @Option(help: "Each pixel becomes an upscale x upscale block ((8*upscale)^2 channels).")
        var upscale = 2

        func validate() throws {
            guard timesteps >= 1 && timesteps <= EventFile.maxTimesteps else {
                throw ValidationError("--timesteps must be in 1...\(EventFile.maxTimesteps)")
            }
            guard maxRate >= 0 && maxRate <= 1 else { throw ValidationError("--max-rate must be in 0...1") }
            guard upscale >= 1 && upscale <= 32 else { throw ValidationError("--upscale must be in 1...32") }
            guard first == nil || last == nil else { throw ValidationError("give --first or --last, not both") }
            if let n = first ?? last, n < 0 { throw ValidationError("--first/--last must be >= 0") }
        }

        func run() throws {
            try reportingErrors {
                let rows = try Digits.loadCSV(csv)
                var range = 0..<rows.count
                if let n = first { range = 0..<min(n, rows.count) }
                if let n = last { range = max(0, rows.count - n)..<rows.count }
                let d = Digits.encode(rows, indices: range, seed: seed, timesteps: timesteps,
                                      upscale: upscale, maxRate: maxRate)
                try EventFile.write(d, to: out)
                print("wrote \(out): \(d.samples.count) samples (rows \(range.lowerBound)..<\(range.upperBound)), "
                      + "\(d.channels) channels, \(d.timesteps) steps, \(d.eventCount) events")
            }
        }
    }

    /// `xbar events random`: Bernoulli spike trains, the synthetic input of the benchmarks.
    struct RandomCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "random",
            abstract: "Write samples in which every channel spikes with a fixed probability per step (the benchmarks' input)."
        )

        @Option(help: "Input channels.")
        var channels: Int
        @Option(help: "Time steps per sample.")
        var timesteps = 50
        @Option(help: "Samples.")
        var samples = 1
        @Option(help: "Spike probability of a channel per step.")
        var rate: Double
        @Option(help: "Seed of the Philox generator (the benchmarks use 7).")
        var seed: UInt64 = 7
        @Option(help: "Output .xev file.")
        var out: String

        func validate() throws {
            guard channels >= 1 && channels <= EventFile.maxChannels else { throw ValidationError("--channels must be in 1...\(EventFile.maxChannels)") }
            guard timesteps >= 1 && timesteps <= EventFile.maxTimesteps else {
                throw ValidationError("--timesteps must be in 1...\(EventFile.maxTimesteps)")
            }
            guard samples >= 1 && samples <= 1_000_000 else { throw ValidationError("--samples must be in 1...1000000") }
            guard rate >= 0 && rate <= 1 else { throw ValidationError("--rate must be in 0...1") }
            guard Double(channels) * Double(timesteps) * Double(samples) * rate <= 1e9 else {
                throw ValidationError("about \(Int(Double(channels) * Double(timesteps) * Double(samples) * rate)) events expected; at most 1e9")
            }
        }

        func run() throws {
            try reportingErrors {
                let d = EventDataset.random(channels: channels, timesteps: timesteps, samples: samples, rate: rate, seed: seed)
                try EventFile.write(d, to: out)
                print("wrote \(out): \(d.samples.count) samples, \(d.channels) channels, \(d.timesteps) steps, \(d.eventCount) events")
            }
        }
    }

    /// Crop choices of `xbar events nmnist`.
    enum CropChoice: String, ExpressibleByArgument, CaseIterable {
        case centre16, none
    }

    /// Polarity choices of `xbar events nmnist`.
    enum PolarityChoice: String, ExpressibleByArgument, CaseIterable {
        case on, off, both, planes
        var filter: PolarityFilter { PolarityFilter(rawValue: rawValue)! }
    }

    /// `xbar events nmnist`: bin one N-MNIST recording into a one-sample .xev file.
    struct NMNISTCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nmnist",
            abstract: "Convert one N-MNIST .bin recording into a one-sample .xev file."
        )

        @Argument(help: "N-MNIST .bin file (5 bytes per event).")
        var input: String
        @Option(help: "Output .xev file.")
        var out: String
        @Option(help: "Time steps: step = floor(t * timesteps / duration).")
        var timesteps = 50
        @Option(help: "Recording duration in microseconds (default: last timestamp + 1).")
        var durationUS: UInt32?
        @Option(help: "centre16 (16x16 centre, x0 = y0 = 9, as Lin et al.) or none (34x34).")
        var crop: CropChoice = .centre16
        @Option(help: "Events to keep: on, off, both (channels doubled, pixel*2+ON) or planes (both as C x H x W: ON*H*W+pixel).")
        var polarity: PolarityChoice = .on
        @Option(help: "Class label of the sample (default: unlabelled).")
        var label: Int?

        func validate() throws {
            guard timesteps >= 1 && timesteps <= EventFile.maxTimesteps else {
                throw ValidationError("--timesteps must be in 1...\(EventFile.maxTimesteps)")
            }
            if let l = label, l < 0 { throw ValidationError("--label must be >= 0") }
        }

        func run() throws {
            try reportingErrors {
                let events = try NMNIST.read(input)
                let raster = NMNIST.bin(events, timesteps: timesteps, durationUS: durationUS,
                                        crop: crop == .centre16 ? Crop.paperCentre16 : nil,
                                        polarity: polarity.filter, label: label)
                let d = EventDataset(channels: raster.channels, timesteps: raster.timesteps, samples: [raster])
                try EventFile.write(d, to: out)
                print("wrote \(out): \(events.count) events in, \(raster.eventCount) spikes on \(raster.channels) channels "
                      + "over \(raster.timesteps) steps")
            }
        }
    }

    /// `xbar events info`: summary of a .xev file.
    struct InfoCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Print the size, event counts and label histogram of a .xev file."
        )

        @Argument(help: "The .xev file.")
        var file: String

        func run() throws {
            try reportingErrors {
                let d = try EventFile.read(file)
                print(EventsCommand.summary(d, file: file))
            }
        }
    }

    /// The text `xbar events info` prints.
    static func summary(_ d: EventDataset, file: String) -> String {
        let counts = d.samples.map(\.eventCount)
        let total = counts.reduce(0, +)
        var lines = [
            "file       \(file)",
            "channels   \(d.channels)",
            "timesteps  \(d.timesteps)",
            "samples    \(d.samples.count)",
            "events     \(total)",
        ]
        if let lo = counts.min(), let hi = counts.max() {
            let mean = Double(total) / Double(counts.count)
            let rate = mean / Double(max(1, d.channels * d.timesteps))
            lines.append("per sample mean \(String(format: "%.2f", mean)) min \(lo) max \(hi) "
                         + "(\(String(format: "%.4f", rate)) spikes per channel per step)")
        }
        var histogram: [Int: Int] = [:]
        var unlabelled = 0
        for s in d.samples {
            if let l = s.label { histogram[l, default: 0] += 1 } else { unlabelled += 1 }
        }
        var labels = histogram.keys.sorted().map { "\($0):\(histogram[$0] ?? 0)" }
        if unlabelled > 0 { labels.append("-:\(unlabelled)") }
        lines.append("labels     " + (labels.isEmpty ? "(none)" : labels.joined(separator: " ")))
        return lines.joined(separator: "\n")
    }
}
