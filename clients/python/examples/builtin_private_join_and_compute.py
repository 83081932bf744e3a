"""Teaclave's builtin_private_join_and_compute.py: three banks learn the totals of the customers
they all share, and nothing else."""

import cloister
import common

options = common.arguments(__doc__)
function_owner, owners = common.parties(options, ["bank0", "bank1", "bank2"], "banks")
banks = [owners[f"bank{index}"] for index in range(3)]

function = function_owner.register_function(
    "builtin-private-join-and-compute", "builtin",
    arguments=[{"key": "num_user", "default_value": "3", "allow_overwrite": False}],
    inputs=[f"input_data{index}" for index in range(3)], outputs=[f"output_data{index}" for index in range(3)])
print(f"registered {function['id']} (builtin-private-join-and-compute)")

task = banks[0].client.create_task(
    function["id"], "builtin",
    inputs_ownership={f"input_data{index}": [bank.id] for index, bank in enumerate(banks)},
    outputs_ownership={f"output_data{index}": [bank.id] for index, bank in enumerate(banks)})
ledgers = [b"alice: 10\nbob: 20\ncarol: 30\n", b"alice: 1\ncarol: 3\ndave: 4\n", b"carol: 300\nalice: 100\nerin: 500\n"]
outputs = []
for index, bank in enumerate(banks):
    key = cloister.keygen("aes-gcm-128")            # Teaclave's scheme: a key and a 12-byte IV
    data = bank.client.upload_input(ledgers[index], key)
    output_key = cloister.keygen("aes-gcm-128")     # an aes-gcm key and IV encrypt one file only
    output = bank.client.register_output("aes-gcm-128", output_key)
    outputs.append((output["id"], output_key))
    bank.client.assign_data(task["id"], inputs={f"input_data{index}": data["id"]}, outputs={f"output_data{index}": output["id"]})
for bank in banks:
    bank.client.approve_task(task["id"])
banks[0].client.invoke_task(task["id"])
common.finish(banks[0].client, task["id"])
for index, bank in enumerate(banks):
    report = bank.client.read_output(*outputs[index]).decode()
    common.expect(report == "alice, 111\ncarol, 333\n", f"bank{index}'s output is {report!r}")
print(f"{task['id']}: each bank reads 'alice, 111; carol, 333'")
