import CloisterAPI
import Hummingbird
import NIOCore
import Platform

/// `/v1/tasks…`.
struct TaskRoutes {
    let platform: Platform

    func add(to group: RouterGroup<APIRequestContext>) {
        let tasks = platform.tasks
        group.post("tasks") { request, context in
            var request = request
            let body = try await request.decodeStrict(CreateTaskRequest.self, context: context)
            return try JSONResponse.make(try await tasks.create(try context.requireCaller(), body), status: .created)
        }
        group.get("tasks") { _, context in
            try JSONResponse.make(TaskList(tasks: try await tasks.list(try context.requireCaller())))
        }
        // `?wait=SECONDS[&state=STATE[,STATE…]]`: a long poll (TaskService.get(_:_:waitingUpTo:whileStateIn:)).
        group.get("tasks/:id") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            let query = request.uri.queryParameters
            guard let waitText = query.get("wait") else {
                guard query.get("state") == nil else { throw PlatformError.badRequest(field: "state", message: "only with wait") }
                return try JSONResponse.make(try await tasks.get(caller, id))
            }
            let longest = Int(TaskService.longestWait.components.seconds)
            guard let seconds = Int(waitText), (0...longest).contains(seconds) else {
                throw PlatformError.badRequest(field: "wait", message: "must be a whole number of seconds from 0 to \(longest)")
            }
            var seen: Set<TaskState> = []
            if let stateText = query.get("state") {
                for text in stateText.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let state = TaskState(rawValue: String(text)) else {
                        throw PlatformError.badRequest(
                            field: "state",
                            message: "must be one or more of \(TaskState.allCases.map(\.rawValue).joined(separator: ", ")), separated by commas")
                    }
                    seen.insert(state)
                }
            }
            return try JSONResponse.make(try await tasks.get(caller, id, waitingUpTo: .seconds(seconds), whileStateIn: seen))
        }
        group.post("tasks/:id/data") { request, context in
            var request = request
            let body = try await request.decodeStrict(AssignDataRequest.self, context: context)
            return try JSONResponse.make(try await tasks.assignData(try context.requireCaller(), try context.parameters.require("id"), body))
        }
        group.post("tasks/:id/approve") { _, context in
            try JSONResponse.make(try await tasks.approve(try context.requireCaller(), try context.parameters.require("id")))
        }
        group.post("tasks/:id/invoke") { _, context in
            try JSONResponse.make(try await tasks.invoke(try context.requireCaller(), try context.parameters.require("id")))
        }
        group.post("tasks/:id/cancel") { _, context in
            try JSONResponse.make(try await tasks.cancel(try context.requireCaller(), try context.parameters.require("id")))
        }
        // The receipt exactly as it was signed and stored (canonical JSON, docs/receipts.md).
        group.get("tasks/:id/receipt") { _, context in
            let document = try await tasks.receipt(try context.requireCaller(), try context.parameters.require("id"))
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        group.post("tasks/:id/decline") { _, context in
            try JSONResponse.make(try await tasks.decline(try context.requireCaller(), try context.parameters.require("id")))
        }
    }
}
