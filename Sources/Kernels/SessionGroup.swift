import Foundation

/// The scheduling group ("autogroup") of the process's session, where Linux keeps them
/// (`/proc/self/autogroup`, with `kernel.sched_autogroup_enabled`): the cores are shared between
/// sessions' groups first, and nice values only order the threads within one. So a process niced
/// in a session of its own (started with `setsid`, or by a batch system) would still take its
/// group's full share of the cores from everything else.
enum SessionGroup {
    /// When the process leads its session and its nice value is above its group's, gives the
    /// group the process's nice value (raising it needs no privilege). Returns the group's nice
    /// value afterwards, or nil where there is no group file or the process does not lead its
    /// session (its group is then shared with processes it must not lower).
    @discardableResult
    static func followProcessNice(file: String = "/proc/self/autogroup") -> Int32? {
        guard getsid(0) == getpid(), let group = nice(in: file) else { return nil }
        let process = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))
        guard process > group else { return group }
        let fd = open(file, O_WRONLY)
        guard fd >= 0 else { return group }
        defer { close(fd) }
        let text = Array("\(process)\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return nice(in: file)
    }

    /// The nice value an autogroup file gives ("/autogroup-25 nice 0").
    static func nice(in file: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: file),
              let last = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).last else { return nil }
        return Int32(last)
    }
}
