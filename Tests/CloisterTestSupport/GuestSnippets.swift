/// Guests written in WebAssembly text, shared by several tests.
public enum GuestSnippets {
    /// Sleeps for an hour in `poll_oneoff`, holding `pages` pages of linear memory.
    public static func sleeper(pages: Int = 1) -> String {
        """
        (module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") \(pages))
          (data (i32.const 8) "\\00")
          (data (i32.const 16) "\\01\\00\\00\\00")
          (data (i32.const 24) "\\00\\68\\89\\12\\46\\03\\00\\00")
          (func (export "_start") (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))
        """
    }

    /// Writes "spinning\n" to stdout, then spins in a loop that makes no system call.
    public static let spinner = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\\08\\00\\00\\00\\09\\00\\00\\00")
          (data (i32.const 8) "spinning\\n")
          (func $spin (loop $forever (br $forever)))
          (func (export "_start")
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
            (call $spin)))
        """

    /// Traps at once (`unreachable`: SIGABRT).
    public static let trap = "(module (memory (export \"memory\") 1) (func (export \"_start\") unreachable))"
}
