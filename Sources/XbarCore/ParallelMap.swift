import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, computed on up to `threads` threads (elements striped over them), returned in
    /// order. For a pure `transform` the result does not depend on the thread count.
    public func parallelMap<T: Sendable>(threads: Int, _ transform: @Sendable (Element) -> T) -> [T] {
        let n = count
        let workers = Swift.max(1, Swift.min(threads, n))
        if workers == 1 { return map(transform) }
        let slots = ParallelSlots<T>(n)
        let items = self
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < n {
                slots.set(i, transform(items[i]))
                i += workers
            }
        }
        return slots.values.map { $0! }
    }
}

/// Result slots written from several threads.
final class ParallelSlots<T>: @unchecked Sendable {
    var values: [T?]
    let lock = NSLock()
    init(_ n: Int) { values = [T?](repeating: nil, count: n) }
    func set(_ i: Int, _ v: T) {
        lock.lock()
        values[i] = v
        lock.unlock()
    }
}
