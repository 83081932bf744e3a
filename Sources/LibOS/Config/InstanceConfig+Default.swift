import Foundation

extension InstanceConfig {
    /// The default `Cloister.json` that `cloister new` writes into a new instance folder
    /// (2-space indented, ending with a newline). Every key is present: nothing is implied.
    public static let defaultJSON: String = """
        {
          "resource_limits": {
            "user_space_size": "256MB",
            "max_num_of_processes": 16,
            "max_num_of_threads": 32
          },
          "process": {
            "default_stack_size": "1MB",
            "default_heap_size": "64MB", "cpu_time_limit": "10m", "wall_time_limit": "1h", "interrupt_period": "10ms"
          },
          "entry_points": [
            "/bin"
          ],
          "env": {
            "default": [
              "HOME=/root",
              "PATH=/bin"
            ],
            "untrusted": [
              "TERM",
              "LANG"
            ]
          },
          "mount": [
            {
              "target": "/",
              "type": "ramfs"
            },
            {
              "target": "/bin",
              "type": "hostfs",
              "source": "./image/bin"
            },
            {
              "target": "/data",
              "type": "hostfs",
              "source": "./data"
            },
            {
              "target": "/tmp",
              "type": "ramfs"
            },
            {
              "target": "/dev",
              "type": "devfs"
            }
          ],
          "metadata": {
            "debuggable": true
          },
          "engine": "wasmtime"
        }

        """
}
