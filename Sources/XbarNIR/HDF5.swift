import CHDF5
import Foundation

/// What one HDF5 dataset or attribute holds, as far as NIR needs it.
enum H5Data {
    case numbers(NIRArray)
    case text(shape: [Int], [String])
    /// A datatype the reader does not interpret (compound, enum/bool, opaque, ...).
    case unsupported(String)
    /// More than `H5.maxPoints` values (or `H5.maxBytes` bytes of fixed-length strings): refused before allocating.
    case tooLarge(points: UInt64, bytes: UInt64)
}

/// Thin helpers over libhdf5's C API (through the CHDF5 shim). Every handle is closed by the caller with `defer`.
enum H5 {
    /// Silences HDF5's own error printing; failures surface as negative return values that the reader turns into
    /// one-line XbarErrors.
    static let silenced: Void = { xbar_h5_silence() }()

    /// Largest dataset or attribute read, in values (2^28 doubles are 2 GiB).
    static let maxPoints: UInt64 = 1 << 28
    /// Largest fixed-length string dataset read, in bytes.
    static let maxBytes: UInt64 = 1 << 30

    /// The names of a group's links, in name order; nil if the group cannot be read.
    static func children(of group: hid_t) -> [String]? {
        var info = H5G_info_t()
        guard H5Gget_info(group, &info) >= 0 else { return nil }
        var names: [String] = []
        for i in 0..<info.nlinks {
            guard let n = linkName(group, Int(i)) else { return nil }
            names.append(n)
        }
        return names
    }

    private static func linkName(_ group: hid_t, _ i: Int) -> String? {
        let len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), nil, 0, xbar_h5p_default())
        guard len >= 0 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(len) + 1)
        guard H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), &buf, buf.count, xbar_h5p_default()) >= 0
        else { return nil }
        return cString(buf)
    }

    /// Names of an object's attributes (probes indices until libhdf5 reports none; portable across 1.10 and 1.12+).
    static func attributeNames(of obj: hid_t) -> [String] {
        var names: [String] = []
        var i: hsize_t = 0
        while i < 100_000 {
            let len = H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, xbar_h5p_default())
            if len < 0 { break }
            var buf = [CChar](repeating: 0, count: Int(len) + 1)
            guard H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, xbar_h5p_default()) >= 0
            else { break }
            names.append(cString(buf))
            i += 1
        }
        return names
    }

    /// True if `name` in `group` exists and is a link.
    static func exists(_ group: hid_t, _ name: String) -> Bool { H5Lexists(group, name, xbar_h5p_default()) > 0 }

    /// Reads a whole dataset.
    static func readDataset(_ ds: hid_t) -> H5Data? {
        let ftype = H5Dget_type(ds)
        guard ftype >= 0 else { return nil }
        defer { H5Tclose(ftype) }
        let space = H5Dget_space(ds)
        guard space >= 0 else { return nil }
        defer { H5Sclose(space) }
        return read(ftype: ftype, space: space) { mem, buf in
            H5Dread(ds, mem, xbar_h5s_all(), xbar_h5s_all(), xbar_h5p_default(), buf)
        }
    }

    /// Reads a whole attribute.
    static func readAttribute(_ obj: hid_t, _ name: String) -> H5Data? {
        let a = H5Aopen(obj, name, xbar_h5p_default())
        guard a >= 0 else { return nil }
        defer { H5Aclose(a) }
        let ftype = H5Aget_type(a)
        guard ftype >= 0 else { return nil }
        defer { H5Tclose(ftype) }
        let space = H5Aget_space(a)
        guard space >= 0 else { return nil }
        defer { H5Sclose(space) }
        return read(ftype: ftype, space: space) { mem, buf in H5Aread(a, mem, buf) }
    }

    private static func read(ftype: hid_t, space: hid_t, _ read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> H5Data? {
        let nd = Int(H5Sget_simple_extent_ndims(space))
        guard nd >= 0 else { return nil }
        var dims = [hsize_t](repeating: 0, count: nd)
        if nd > 0 { guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { return nil } }
        let npoints = H5Sget_simple_extent_npoints(space)
        guard npoints >= 0 else { return nil }
        let cls = H5Tget_class(ftype)
        // Refuse before allocating: a tiny chunked file can declare 2^36 values.
        let points = UInt64(npoints)
        let fixedString = cls == H5T_STRING && H5Tis_variable_str(ftype) <= 0
        let (bytes, overflow) = points.multipliedReportingOverflow(by: fixedString ? UInt64(H5Tget_size(ftype)) : 0)
        guard points <= maxPoints, dims.allSatisfy({ $0 <= hsize_t(maxPoints) }), !overflow, bytes <= maxBytes else {
            return .tooLarge(points: points, bytes: overflow ? .max : bytes)
        }
        let count = Int(npoints)
        let shape = dims.map { Int($0) }
        if cls == H5T_FLOAT || cls == H5T_INTEGER {
            var buf = [Double](repeating: 0, count: max(count, 1))
            if count > 0 {
                let st = buf.withUnsafeMutableBytes { read(xbar_h5t_native_double(), $0.baseAddress!) }
                guard st >= 0 else { return nil }
            }
            return .numbers(NIRArray(shape: shape, values: Array(buf.prefix(count))))
        }
        if cls == H5T_STRING {
            let mem = H5Tcopy(xbar_h5t_c_s1())
            guard mem >= 0 else { return nil }
            defer { H5Tclose(mem) }
            H5Tset_cset(mem, H5Tget_cset(ftype))
            if count == 0 { return .text(shape: shape, []) }
            if H5Tis_variable_str(ftype) > 0 {
                guard H5Tset_size(mem, xbar_h5t_variable()) >= 0 else { return nil }
                var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                let st = ptrs.withUnsafeMutableBytes { read(mem, $0.baseAddress!) }
                guard st >= 0 else { return nil }
                let strings = ptrs.map { $0.map { String(cString: $0) } ?? "" }
                _ = ptrs.withUnsafeMutableBytes { xbar_h5_reclaim(mem, space, $0.baseAddress!) }
                return .text(shape: shape, strings)
            }
            let size = H5Tget_size(ftype)
            // Keep the file's padding: a NULLTERM memory type of the same size would drop the last character of
            // a full NULLPAD string (numpy/h5py 'S' strings).
            guard size > 0, H5Tset_size(mem, size) >= 0, H5Tset_strpad(mem, H5Tget_strpad(ftype)) >= 0 else { return nil }
            var buf = [UInt8](repeating: 0, count: count * size)
            let st = buf.withUnsafeMutableBytes { read(mem, $0.baseAddress!) }
            guard st >= 0 else { return nil }
            let strings = (0..<count).map { i -> String in
                var bytes = Array(buf[(i * size)..<((i + 1) * size)])
                if let z = bytes.firstIndex(of: 0) { bytes = Array(bytes[..<z]) }
                while bytes.last == 0x20 { bytes.removeLast() }  // H5T_STR_SPACEPAD
                return String(decoding: bytes, as: UTF8.self)
            }
            return .text(shape: shape, strings)
        }
        return .unsupported("HDF5 datatype class \(cls.rawValue)")
    }
}

/// A minimal HDF5 writer (groups, float64 and variable-length UTF-8 string datasets, gzip optional) used to write
/// NIR files and to make test fixtures; see `NIRWriter`.
public final class HDF5Writer {
    private var file: hid_t
    public let path: String

    /// Creates (truncates) `path`.
    public init(path: String) throws {
        _ = H5.silenced
        self.path = path
        file = H5Fcreate(path, xbar_h5f_acc_trunc(), xbar_h5p_default(), xbar_h5p_default())
        if file < 0 { throw NIRReader.fail(path, "", "cannot create HDF5 file") }
    }

    deinit { close() }

    /// Flushes and closes the file (idempotent).
    public func close() {
        if file >= 0 { H5Fclose(file) }
        file = -1
    }

    /// Creates the group at `path` (parents must exist), e.g. "node/nodes".
    public func group(_ path: String) throws {
        let g = H5Gcreate2(file, path, xbar_h5p_default(), xbar_h5p_default(), xbar_h5p_default())
        if g < 0 { throw NIRReader.fail(self.path, path, "cannot create group") }
        H5Gclose(g)
    }

    private func space(_ shape: [Int]) -> hid_t {
        if shape.isEmpty { return H5Screate(H5S_SCALAR) }
        let dims = shape.map { hsize_t($0) }
        return H5Screate_simple(Int32(dims.count), dims, nil)
    }

    /// Writes a float64 dataset (`shape == []` for a scalar); `gzip` compresses it in one chunk.
    public func write(_ path: String, _ values: [Double], shape: [Int]? = nil, gzip: Bool = false) throws {
        try write(path, values, count: values.count, shape: shape, gzip: gzip,
                  fileType: xbar_h5t_ieee_f64le(), memoryType: xbar_h5t_native_double())
    }

    /// Writes a 64-bit integer dataset (for shapes, strides and other integer parameters).
    public func write(_ path: String, integers values: [Int64], shape: [Int]? = nil) throws {
        try write(path, values, count: values.count, shape: shape, gzip: false,
                  fileType: xbar_h5t_std_i64le(), memoryType: xbar_h5t_native_llong())
    }

    private func write<T>(_ path: String, _ values: [T], count: Int, shape: [Int]?, gzip: Bool, fileType: hid_t,
                          memoryType: hid_t) throws {
        let shape = shape ?? [values.count]
        precondition(shape.reduce(1, *) == values.count, "shape does not match value count")
        let sp = space(shape)
        defer { H5Sclose(sp) }
        let dcpl = H5Pcreate(xbar_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        if gzip && !shape.isEmpty && !values.isEmpty {
            let chunk = shape.map { hsize_t(max($0, 1)) }
            H5Pset_chunk(dcpl, Int32(chunk.count), chunk)
            H5Pset_deflate(dcpl, 4)
        }
        let ds = H5Dcreate2(file, path, fileType, sp, xbar_h5p_default(), dcpl, xbar_h5p_default())
        if ds < 0 { throw NIRReader.fail(self.path, path, "cannot create dataset") }
        defer { H5Dclose(ds) }
        if values.isEmpty { return }
        let st = values.withUnsafeBytes { H5Dwrite(ds, memoryType, xbar_h5s_all(), xbar_h5s_all(), xbar_h5p_default(), $0.baseAddress!) }
        if st < 0 { throw NIRReader.fail(self.path, path, "cannot write dataset") }
    }

    /// Creates a chunked float64 dataset of `shape` without writing any chunk (it reads as zeros): a tiny file that
    /// declares a huge dataset, for tests of the reader's size limit.
    public func writeUnallocated(_ path: String, shape: [Int], chunk: [Int]) throws {
        let sp = space(shape)
        defer { H5Sclose(sp) }
        let dcpl = H5Pcreate(xbar_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        H5Pset_chunk(dcpl, Int32(chunk.count), chunk.map { hsize_t($0) })
        let ds = H5Dcreate2(file, path, xbar_h5t_ieee_f64le(), sp, xbar_h5p_default(), dcpl, xbar_h5p_default())
        if ds < 0 { throw NIRReader.fail(self.path, path, "cannot create dataset") }
        H5Dclose(ds)
    }

    /// Writes a UTF-8 string dataset (`shape == []` for a scalar string): variable length, or NUL-padded fixed
    /// length `fixedLength` bytes (longer strings are cut).
    public func write(_ path: String, strings: [String], shape: [Int]? = nil, fixedLength: Int? = nil) throws {
        let shape = shape ?? [strings.count]
        precondition(shape.reduce(1, *) == strings.count, "shape does not match string count")
        let sp = space(shape)
        defer { H5Sclose(sp) }
        let mem = H5Tcopy(xbar_h5t_c_s1())
        defer { H5Tclose(mem) }
        H5Tset_size(mem, fixedLength.map { max($0, 1) } ?? xbar_h5t_variable())
        H5Tset_cset(mem, H5T_CSET_UTF8)
        if fixedLength != nil { H5Tset_strpad(mem, H5T_STR_NULLPAD) }
        let ds = H5Dcreate2(file, path, mem, sp, xbar_h5p_default(), xbar_h5p_default(), xbar_h5p_default())
        if ds < 0 { throw NIRReader.fail(self.path, path, "cannot create dataset") }
        defer { H5Dclose(ds) }
        if strings.isEmpty { return }
        if let n = fixedLength.map({ max($0, 1) }) {
            var buf = [UInt8](repeating: 0, count: n * strings.count)
            for (i, str) in strings.enumerated() { for (j, b) in str.utf8.prefix(n).enumerated() { buf[i * n + j] = b } }
            let st = buf.withUnsafeMutableBytes { H5Dwrite(ds, mem, xbar_h5s_all(), xbar_h5s_all(), xbar_h5p_default(), $0.baseAddress!) }
            if st < 0 { throw NIRReader.fail(self.path, path, "cannot write dataset") }
            return
        }
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { ptrs.forEach { free($0) } }
        let st = ptrs.withUnsafeMutableBytes { H5Dwrite(ds, mem, xbar_h5s_all(), xbar_h5s_all(), xbar_h5p_default(), $0.baseAddress!) }
        if st < 0 { throw NIRReader.fail(self.path, path, "cannot write dataset") }
    }
}

/// A NUL-terminated C buffer as a String (UTF-8, stopping at the first NUL).
func cString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
