"""Teaclave's builtin_echo.py: one data owner runs the builtin echo function.

A task whose creator is its only participant and that uses no files is approved when created.
"""

import common

options = common.arguments(__doc__)
function_owner, owners = common.parties(options, ["echo-user"], "echo")
user = owners["echo-user"]

function = function_owner.register_function(
    "builtin-echo", "builtin", description="Returns its message",
    arguments=[{"key": "message", "default_value": "Hello", "allow_overwrite": True}])
print(f"registered {function['id']} (builtin-echo)")

task = user.client.create_task(function["id"], "builtin", function_arguments={"message": "Hello, Cloister!"})
common.expect(task["state"] == "Approved", f"a lone participant's task should be Approved at creation, is {task['state']}")
user.client.invoke_task(task["id"])
done = common.finish(user.client, task["id"])
common.expect(done["result"]["return_value"] == "Hello, Cloister!", f"echo returned {done['result']['return_value']!r}")
print(f"{task['id']}: {done['result']['return_value']}")
