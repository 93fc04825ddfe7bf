/// The one error type every stage throws: a single line naming the file, the field and what was expected.
public struct XbarError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or "<stdin>", "<graph>", ...) the problem is in.
    public var file: String
    /// The field, line or element the problem is at (for example `populations[1].decay` or `line 12`).
    public var field: String
    /// What was wrong and what was expected.
    public var message: String

    public init(file: String, field: String, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        let where_ = field.isEmpty ? file : "\(file): \(field)"
        return "\(where_): \(message)".replacingOccurrences(of: "\n", with: " ")
    }
}
