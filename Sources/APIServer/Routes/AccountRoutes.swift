import CloisterAPI
import Hummingbird
import Platform

/// `/v1/auth/login`, `/v1/auth/logout` and `/v1/users…`.
struct AccountRoutes {
    let platform: Platform

    func addPublic(to group: RouterGroup<APIRequestContext>) {
        group.post("auth/login") { request, context in
            var request = request
            let body = try await request.decodeStrict(LoginRequest.self, context: context)
            return try JSONResponse.make(try await platform.accounts.login(body, address: context.clientAddress))
        }
    }

    func add(to group: RouterGroup<APIRequestContext>) {
        let accounts = platform.accounts
        group.post("auth/logout") { _, context in
            try await accounts.logout(try context.requireCaller(), token: context.token ?? "")
            return JSONResponse.noContent()
        }
        group.post("users") { request, context in
            var request = request
            let body = try await request.decodeStrict(RegisterUserRequest.self, context: context)
            return try JSONResponse.make(try await accounts.register(try context.requireCaller(), body), status: .created)
        }
        group.get("users") { _, context in
            try JSONResponse.make(UserList(users: try await accounts.list(try context.requireCaller())))
        }
        group.get("users/:id") { _, context in
            try JSONResponse.make(try await accounts.get(try context.requireCaller(), try context.parameters.require("id")))
        }
        group.patch("users/:id") { request, context in
            var request = request
            let body = try await request.decodeStrict(UpdateUserRequest.self, context: context)
            return try JSONResponse.make(try await accounts.update(try context.requireCaller(), try context.parameters.require("id"), body))
        }
        group.delete("users/:id") { _, context in
            try await accounts.delete(try context.requireCaller(), try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
        group.post("users/:id/password") { request, context in
            var request = request
            let body = try await request.decodeStrict(ChangePasswordRequest.self, context: context)
            try await accounts.changePassword(try context.requireCaller(), try context.parameters.require("id"), body)
            return JSONResponse.noContent()
        }
        group.post("users/:id/password/reset") { _, context in
            let password = try await accounts.resetPassword(try context.requireCaller(), try context.parameters.require("id"))
            return try JSONResponse.make(ResetPasswordResponse(password: password))
        }
    }
}
