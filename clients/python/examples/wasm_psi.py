"""Teaclave's WebAssembly example, as a private set intersection written in C
(examples/functions/psi.c, built by `make guests`) and run in the LibOS."""

import os

import cloister
import common

options = common.arguments(__doc__)
module_path = os.environ.get("CLOISTER_PSI_MODULE", os.path.join(common.REPOSITORY, ".build", "guests", "functions", "psi.wasm"))
with open(module_path, "rb") as source:
    module = source.read()
function_owner, owners = common.parties(options, ["org1", "org2"], "psi-wasm")
org1, org2 = owners["org1"], owners["org2"]

function = function_owner.register_function(
    "wasm-psi", "wasm", module, description="Private set intersection in C",
    inputs=["input_data1", "input_data2"], outputs=["output_result1", "output_result2"])
print(f"registered {function['id']} (wasm-psi, {function['payload_size']} bytes, sha256 {function['payload_sha256']})")
task = org1.client.create_task(
    function["id"], "wasmkit",
    inputs_ownership={"input_data1": [org1.id], "input_data2": [org2.id]},
    outputs_ownership={"output_result1": [org1.id], "output_result2": [org2.id]})
keys = {}
for party, number, items in ((org1, 1, b"apple\nbanana\ncherry\ndate\n"), (org2, 2, b"banana\ndate\nelderberry\n")):
    key = cloister.keygen("cloister-file-128")
    data = party.client.upload_input(items, key)
    output = party.client.register_output("cloister-file-128", key)
    keys[party.id] = (output["id"], key)
    party.client.assign_data(task["id"], inputs={f"input_data{number}": data["id"]}, outputs={f"output_result{number}": output["id"]})
# Each party checks, before approving, that the task runs the module it was shown.
for party in (org1, org2):
    shown = party.client.get_task(task["id"])
    common.expect(shown["payload_sha256"] == function["payload_sha256"], "the task runs another payload")
    party.client.approve_task(task["id"])
org1.client.invoke_task(task["id"])
common.finish(org1.client, task["id"])
result1 = org1.client.read_output(*keys[org1.id]).decode()
result2 = org2.client.read_output(*keys[org2.id]).decode()
common.expect(result1 == "0\n1\n0\n1\n" and result2 == "1\n1\n0\n", f"outputs {result1!r}, {result2!r}")
print(f"{task['id']}: org1 {result1.split()}, org2 {result2.split()}")
