import Foundation

/// Writes files all-or-nothing: data goes to a temporary file beside the target, then is renamed over it.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try data.write(to: tmp, options: [])
            // POSIX rename replaces the target atomically (Foundation's replaceItemAt deletes it on Linux).
            guard rename(tmp.path, url.path) == 0 else {
                throw XbarError(file: path, field: "", "cannot rename temporary file into place (errno \(errno))")
            }
        } catch let e as XbarError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw XbarError(file: path, field: "", "cannot write: \(error.localizedDescription)")
        }
    }

    /// Lets `body` write a file of its own format (for example through a C library) to a temporary path beside
    /// `path`, then renames it into place; on any error the temporary file is removed and `path` is untouched.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try body(tmp.path)
            guard rename(tmp.path, url.path) == 0 else {
                throw XbarError(file: path, field: "", "cannot rename temporary file into place (errno \(errno))")
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Reads a whole file, with a one-line error naming it.
    public static func read(_ path: String) throws -> Data {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw XbarError(file: path, field: "", "cannot read file (missing or unreadable)")
        }
        return d
    }

    public static func readText(_ path: String) throws -> String {
        let d = try read(path)
        guard let s = String(data: d, encoding: .utf8) else {
            throw XbarError(file: path, field: "", "file is not valid UTF-8 text")
        }
        return s
    }
}
