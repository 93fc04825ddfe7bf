import Foundation
import XbarCore

/// One point of a sweep: its place in the plan, one value per axis, and its key.
public struct SweepPoint: Sendable, Equatable {
    public var index: Int
    public var values: [SweepValue]
    /// 32 hex digits: SHA-256 of the spec's fingerprint and the point's (sorted) axis values.
    public var key: String
}

/// Which part of a plan one process runs (`SweepPlan.points(in:)`).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
    public static let whole = Shard(index: 0, count: 1)
    public var description: String { "\(index)/\(count)" }
}

/// Every point of a spec, in a fixed order that depends only on the spec.
public struct SweepPlan: Sendable {
    public var spec: SweepSpec
    public var points: [SweepPoint]
    /// Random sampling of discrete axes can draw the same point twice; the repeats are dropped.
    public var duplicatesDropped: Int
    /// Per point: the ordinal of its *run group*, the points that differ only in energy, area or clock axes and so
    /// share one run of the workload (first appearance order).
    public var runGroup: [Int]
    public var runGroups: Int

    /// Axes under these target tables only re-price a run (docs/sweep.md, "Reuse").
    public static let repricingTables: Set<String> = ["energy", "area", "clock"]

    /// The points of shard `s`: whole run groups, group g in shard g mod N, so a shard re-prices its own runs; when
    /// there are fewer groups than shards, point i in shard i mod N. Depends on the spec only.
    public func points(in s: Shard) -> [SweepPoint] {
        guard s.count > 1 else { return points }
        if runGroups >= s.count { return points.filter { runGroup[$0.index] % s.count == s.index } }
        return points.filter { $0.index % s.count == s.index }
    }

    /// Philox purpose of sampling draws (outside XbarCore's RandomPurpose values): "SWEP".
    static let purpose: UInt32 = 0x5357_4550
    public static let maxPoints = 10_000_000

    public init(spec: SweepSpec) throws {
        self.spec = spec
        let axes = spec.axes
        var rows: [[SweepValue]] = []
        switch spec.sampling {
        case .grid:
            var total = 1
            for a in axes {
                guard case let .values(v) = a.domain else { fatalError("checked by the loader") }
                total = total.multipliedReportingOverflow(by: v.count).overflow ? Int.max : total * v.count
                guard total <= SweepPlan.maxPoints else {
                    throw spec.fail(["axes"], "the grid has more than \(SweepPlan.maxPoints) points (use random or lhs sampling)")
                }
            }
            rows.reserveCapacity(total)
            // First axis (in spec order) varies slowest.
            for i in 0..<total {
                var rem = i
                var vals = [SweepValue](repeating: .int(0), count: axes.count)
                for j in axes.indices.reversed() {
                    guard case let .values(v) = axes[j].domain else { continue }
                    vals[j] = v[rem % v.count]
                    rem /= v.count
                }
                rows.append(vals)
            }
        case .random, .lhs:
            let n = spec.points!
            let rng = Philox(seed: spec.samplingSeed)
            var us = [[Double]](repeating: [Double](repeating: 0, count: axes.count), count: n)
            for j in axes.indices {
                if spec.sampling == .random {
                    for i in 0..<n { us[i][j] = rng.uniform(purpose: SweepPlan.purpose, 0, UInt32(j), UInt32(i)) }
                } else {
                    // Latin hypercube: a random permutation of the n strata per axis, jittered within the stratum.
                    let order = (0..<n).sorted {
                        let a = rng.uniform(purpose: SweepPlan.purpose, 1, UInt32(j), UInt32($0))
                        let b = rng.uniform(purpose: SweepPlan.purpose, 1, UInt32(j), UInt32($1))
                        return a != b ? a < b : $0 < $1
                    }
                    for (stratum, i) in order.enumerated() {
                        us[i][j] = (Double(stratum) + rng.uniform(purpose: SweepPlan.purpose, 2, UInt32(j), UInt32(i))) / Double(n)
                    }
                }
            }
            rows = us.map { u in axes.indices.map { SweepPlan.value(axes[$0].domain, u[$0]) } }
        }
        var seen = Set<String>()
        var pts: [SweepPoint] = []
        var dropped = 0
        for vals in rows {
            let key = SweepPlan.key(spec: spec, values: vals)
            if !seen.insert(key).inserted {
                dropped += 1
                continue
            }
            pts.append(SweepPoint(index: pts.count, values: vals, key: key))
        }
        points = pts
        duplicatesDropped = dropped
        let runAxes = spec.axes.indices.filter { spec.axes[$0].scope != .target || !SweepPlan.repricingTables.contains(spec.axes[$0].path[0]) }
        var ids: [[SweepValue]: Int] = [:]
        runGroup = pts.map { p in
            let k = runAxes.map { p.values[$0] }
            if let g = ids[k] { return g }
            ids[k] = ids.count
            return ids.count - 1
        }
        runGroups = ids.count
    }

    /// The value at quantile `u` in [0, 1) of a domain.
    static func value(_ d: Axis.Domain, _ u: Double) -> SweepValue {
        switch d {
        case let .values(v):
            return v[min(v.count - 1, Int(u * Double(v.count)))]
        case let .interval(lo, hi, integer, log):
            if integer {
                if log {
                    let x = Foundation.exp(Foundation.log(lo) + u * (Foundation.log(hi + 1) - Foundation.log(lo)))
                    return .int(Int(min(hi, max(lo, x.rounded(.down)))))
                }
                return .int(Int(min(hi, (lo + u * (hi - lo + 1)).rounded(.down))))
            }
            let x = log ? lo * Foundation.pow(hi / lo, u) : lo + (hi - lo) * u
            return .double(SweepValue.tidy(min(hi, max(lo, x))))
        }
    }

    /// The point's assignment as canonical JSON: axis names sorted.
    public static func assignment(spec: SweepSpec, values: [SweepValue]) -> JSONValue {
        .object(zip(spec.axes.map(\.name), values).sorted { $0.0 < $1.0 }.map { ($0.0, $0.1.json) })
    }

    public static func key(spec: SweepSpec, values: [SweepValue]) -> String {
        String(SHA256.hex(spec.fingerprint + "\n" + assignment(spec: spec, values: values).serialized(indent: nil)).prefix(32))
    }

    /// The point as written in a row: axis names in spec order.
    public func pointJSON(_ p: SweepPoint) -> JSONValue {
        .object(zip(spec.axes.map(\.name), p.values).map { ($0.0, $0.1.json) })
    }
}
