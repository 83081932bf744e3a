import CLibOSHost
import Foundation

/// Where `make` put the runtimes Cloister loads (wasmtime's library, the Python runtimes): under
/// `.build/runtimes/…` of the package, found by walking up from the code that is running.
///
/// The search starts from this process's executable as the kernel names it (`/proc/self/exe`) and,
/// when Cloister runs inside another program, from the shared library that holds this code
/// (`libcloister_pal.so`) — never from the current folder or `argv[0]`, which whoever starts the
/// process chooses: a `libwasmtime.so` planted in a folder an operator starts `cloister` from (or
/// named through a forged `argv[0]`) would otherwise be loaded into the host process as native
/// code. A runtime elsewhere is named with its environment variable.
public enum InstalledRuntimes {
    /// `relativePath` (a file or folder under the package, `.build/runtimes/wasmtime/libwasmtime.so`)
    /// under the folder of the running code or one of its parents, up to six levels; nil when none has it.
    public static func locate(_ relativePath: String) -> String? {
        for start in starts {
            var folder = start
            for _ in 0...6 {
                let candidate = folder.appendingPathComponent(relativePath).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// The folders the search starts from: the executable's, then this code's library's.
    private static let starts: [URL] = {
        var folders: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        if let name = cloister_host_image_path() {
            let image = URL(fileURLWithPath: String(cString: name)).resolvingSymlinksInPath()
            if image.lastPathComponent.hasSuffix(".so") || image.lastPathComponent.contains(".so.") {
                folders.append(image.deletingLastPathComponent())
            }
        }
        return folders
    }()
}
