import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` into the target that uses it: the git commit the package's sources
/// are at when it is built (nil outside a git checkout), so that `BuildInfo.commit` names the
/// commit a binary was built from, wherever and whenever it runs. The command runs again whenever
/// the checkout's HEAD moves (its `HEAD` file or its reflog changes: a commit, checkout, reset or
/// rebase) and rewrites the file only when the commit differs, so an unchanged commit recompiles
/// nothing.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildCommit.swift")
        let script = """
            commit=$(git -C "$1" rev-parse HEAD 2>/dev/null)
            if [ -n "$commit" ]; then value="\\"$commit\\""; else value=nil; fi
            printf '%s\\n' '// Written by the BuildCommit plugin: the commit the sources were built from.' \\
                "let buildCommit: String? = $value" > "$2.new" || exit 1
            if cmp -s "$2.new" "$2"; then rm "$2.new"; else mv "$2.new" "$2"; fi
            """
        let gitDirectory = Self.gitDirectory(of: package)
        let inputs = gitDirectory.map { [$0.appendingPathComponent("HEAD"), $0.appendingPathComponent("logs/HEAD")] } ?? []
        return [.buildCommand(displayName: "BuildCommit: the git commit of the sources",
                              executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: ["-c", script, "sh", package.path, output.path],
                              inputFiles: inputs.filter { FileManager.default.fileExists(atPath: $0.path) },
                              outputFiles: [output])]
    }

    /// The checkout's git directory: `.git`, or where a worktree's `.git` file points (`gitdir: PATH`).
    static func gitDirectory(of package: URL) -> URL? {
        let dotGit = package.appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir: ") else { return nil }
        let path = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appendingPathComponent(path).standardized
    }
}
