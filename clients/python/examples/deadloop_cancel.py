"""Teaclave's deadloop example: a function that never returns, canceled while it runs. The task
ends Canceled and stays so."""

import common

options = common.arguments(__doc__)
function_owner, owners = common.parties(options, ["looper"], "loop")
user = owners["looper"]
function = function_owner.register_function(
    "deadloop", "python", b"def entrypoint(argv):\n    while True:\n        pass\n")
task = user.client.create_task(function["id"], "cpython")
user.client.invoke_task(task["id"])
state = task["state"]
while state != "Running":
    following = user.client.get_task(task["id"], wait=30, state=state)
    common.expect(following["state"] not in ("Finished", "Failed", "Canceled"), f"the task ended {following['state']}")
    state = following["state"]
print(f"{task['id']} is Running; canceling it")
canceled = user.client.cancel_task(task["id"])
common.expect(canceled["state"] == "Canceled", f"cancel answered {canceled['state']}")
after = user.client.wait_for_task(task["id"])
common.expect(after["state"] == "Canceled" and after.get("reason") == f"canceled by {user.id}", f"the task is {after['state']}: {after.get('reason')}")
print(f"{task['id']}: {after['state']} ({after['reason']})")
