import CloisterAPI
import Hummingbird
import Platform

/// `/v1/inputs…` and `/v1/outputs…`.
struct DataRoutes {
    let platform: Platform

    func add(to group: RouterGroup<APIRequestContext>) {
        let data = platform.data
        group.post("inputs") { request, context in
            var request = request
            let body = try await request.decodeStrict(RegisterInputRequest.self, context: context)
            return try JSONResponse.make(try await data.registerInput(try context.requireCaller(), body), status: .created)
        }
        group.post("inputs/from-output") { request, context in
            var request = request
            let body = try await request.decodeStrict(RegisterInputFromOutputRequest.self, context: context)
            return try JSONResponse.make(try await data.registerInputFromOutput(try context.requireCaller(), body), status: .created)
        }
        group.post("outputs") { request, context in
            var request = request
            let body = try await request.decodeStrict(RegisterOutputRequest.self, context: context)
            return try JSONResponse.make(try await data.registerOutput(try context.requireCaller(), body), status: .created)
        }
        for kind in [DataFileKind.input, .output] {
            let path = "\(kind.rawValue)s"
            group.get(RouterPath(path)) { _, context in
                try JSONResponse.make(DataFileList(files: try await data.list(try context.requireCaller(), kind: kind)))
            }
            group.get(RouterPath("\(path)/:id")) { _, context in
                try JSONResponse.make(try await data.get(try context.requireCaller(), try context.parameters.require("id"), kind: kind))
            }
        }
        group.get("outputs/:id/content") { _, context in
            let path = try await data.outputContentPath(try context.requireCaller(), try context.parameters.require("id"))
            let body = try await FileIO().loadFile(path: path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
        }
    }
}
