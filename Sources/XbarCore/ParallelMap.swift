import Foundation

/// The thread count a `--threads` value asks for: itself when > 0, else OMP_NUM_THREADS, else all cores.
public func effectiveThreadCount(_ requested: Int) -> Int {
    if requested > 0 { return requested }
    if let s = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"], let n = Int(s), n > 0 { return n }
    return ProcessInfo.processInfo.activeProcessorCount
}

/// Runs body(0..<n) on `threads` workers (0 = OMP_NUM_THREADS or all cores), interleaved: worker w takes w, w +
/// workers, ... . Shared by the experiments (samples, heads, seeds) and the chip's realisation (arrays).
public func parallelFor(_ n: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    guard n > 0 else { return }
    let workers = Swift.max(1, Swift.min(effectiveThreadCount(threads), n))
    if workers == 1 {
        for i in 0..<n { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        var i = w
        while i < n {
            body(i)
            i += workers
        }
    }
}

extension Array where Element: Sendable {
    /// `transform` of every element, computed by `parallelFor` on `threads` threads, returned in order. For a pure
    /// `transform` the result does not depend on the thread count.
    public func parallelMap<T: Sendable>(threads: Int, _ transform: @Sendable (Element) -> T) -> [T] {
        let slots = Slots<T>(count)
        let items = self
        parallelFor(count, threads: threads) { i in slots.set(i, transform(items[i])) }
        return slots.values
    }
}

/// Thread-safe write-once slots indexed by item (sample, array, job), filled from several threads.
public final class Slots<T>: @unchecked Sendable {
    private var items: [T?]
    private var finished = 0
    private let lock = NSLock()

    public init(_ n: Int) { items = [T?](repeating: nil, count: n) }

    public func set(_ i: Int, _ v: T) {
        lock.lock()
        items[i] = v
        finished += 1
        lock.unlock()
    }

    public var done: Int {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }

    public func slot(_ i: Int) -> T? {
        lock.lock()
        defer { lock.unlock() }
        return items[i]
    }

    /// All values (every slot must be set).
    public var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return items.map { $0! }
    }
}

/// Computes the pieces of 0..<n — `make` of consecutive ranges of `chunk` items — on every core, a wave of `wave`
/// pieces at a time, and hands them to `consume` in order: a long sequential output (rows of a generated matrix,
/// the text or cells of a program) built in parallel in bounded memory. The result does not depend on the thread
/// count for a pure `make`.
public func forEachPieceInOrder<T: Sendable>(_ n: Int, chunk: Int, wave: Int = 8, threads: Int = 0,
                                             make: @Sendable (Range<Int>) -> T, consume: (T) throws -> Void) rethrows {
    precondition(chunk >= 1 && wave >= 1)
    for w in stride(from: 0, to: n, by: chunk * wave) {
        let starts = Array(stride(from: w, to: Swift.min(w + chunk * wave, n), by: chunk))
        let pieces = starts.parallelMap(threads: threads) { s in make(s..<Swift.min(s + chunk, n)) }
        for piece in pieces { try consume(piece) }
    }
}
