"""Teaclave's builtin_ordered_set_intersect.py: two parties find the items they share.

Each party encrypts its sorted list on its own machine (cloister-file-256), registers it and an
output, assigns both to the task and approves it; each then decrypts an answer about its own
list only, and cannot download the other's.
"""

import cloister
import common

options = common.arguments(__doc__)
function_owner, owners = common.parties(options, ["org1", "org2"], "psi")
org1, org2 = owners["org1"], owners["org2"]

function = function_owner.register_function(
    "builtin-ordered-set-intersect", "builtin",
    arguments=[{"key": "order", "default_value": "ascending", "allow_overwrite": False}],
    inputs=["input_data1", "input_data2"], outputs=["output_result1", "output_result2"])
print(f"registered {function['id']} (builtin-ordered-set-intersect)")

task = org1.client.create_task(
    function["id"], "builtin",
    inputs_ownership={"input_data1": [org1.id], "input_data2": [org2.id]},
    outputs_ownership={"output_result1": [org1.id], "output_result2": [org2.id]})

keys = {}
for party, number, items in ((org1, 1, b"apple\nbanana\ncherry\ndate\n"), (org2, 2, b"banana\ndate\nelderberry\n")):
    key = cloister.keygen("cloister-file-256")
    data = party.client.upload_input(items, key)
    output = party.client.register_output("cloister-file-256", key)
    keys[party.id] = (output["id"], key)
    party.client.assign_data(task["id"], inputs={f"input_data{number}": data["id"]}, outputs={f"output_result{number}": output["id"]})
    print(f"{party.id} assigned its encrypted list and an output")

org1.client.approve_task(task["id"])
approved = org2.client.approve_task(task["id"])
common.expect(approved["state"] == "Approved", f"after both approved the task should be Approved, is {approved['state']}")
org1.client.invoke_task(task["id"])
done = common.finish(org1.client, task["id"])
print(f"{task['id']}: {done['result']['return_value']}")

result1 = org1.client.read_output(*keys[org1.id]).decode()
result2 = org2.client.read_output(*keys[org2.id]).decode()
common.expect(result1 == "0\n1\n0\n1\n", f"org1's output is {result1!r}")
common.expect(result2 == "1\n1\n0\n", f"org2's output is {result2!r}")
print(f"org1 reads its output: {result1.split()}; org2 reads its output: {result2.split()}")
try:
    org1.client.download_output(keys[org2.id][0])
    common.expect(False, "org1 could download org2's output")
except cloister.APIError as error:
    common.expect(error.status == 404, f"org1 reading org2's output got {error}")
