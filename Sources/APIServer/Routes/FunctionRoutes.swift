import CloisterAPI
import Hummingbird
import Platform

/// `/v1/functions…`.
struct FunctionRoutes {
    let platform: Platform

    func add(to group: RouterGroup<APIRequestContext>) {
        let functions = platform.functions
        group.post("functions") { request, context in
            var request = request
            let body = try await request.decodeStrict(RegisterFunctionRequest.self, context: context)
            return try JSONResponse.make(try await functions.register(try context.requireCaller(), body), status: .created)
        }
        group.get("functions") { _, context in
            try JSONResponse.make(FunctionList(functions: try await functions.list(try context.requireCaller())))
        }
        group.get("functions/:id") { _, context in
            try JSONResponse.make(try await functions.get(try context.requireCaller(), try context.parameters.require("id")))
        }
        group.patch("functions/:id") { request, context in
            var request = request
            let body = try await request.decodeStrict(UpdateFunctionRequest.self, context: context)
            return try JSONResponse.make(try await functions.update(try context.requireCaller(), try context.parameters.require("id"), body))
        }
        group.delete("functions/:id") { _, context in
            try await functions.delete(try context.requireCaller(), try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
        group.post("functions/:id/disable") { _, context in
            try JSONResponse.make(try await functions.disable(try context.requireCaller(), try context.parameters.require("id")))
        }
        group.get("functions/:id/usage") { _, context in
            try JSONResponse.make(try await functions.usage(try context.requireCaller(), try context.parameters.require("id")))
        }
    }
}
