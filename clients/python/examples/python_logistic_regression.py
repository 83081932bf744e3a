"""Teaclave's Python (MesaPy) logistic regression: a model trained on one party's data by a Python
function, its output chained into a second task that predicts with it."""

import os

import cloister
import common

options = common.arguments(__doc__)
function_owner, owners = common.parties(options, ["scientist"], "ml")
scientist = owners["scientist"]
examples = os.path.join(common.REPOSITORY, "examples", "functions")


def payload(name: str) -> bytes:
    with open(os.path.join(examples, name), "rb") as source:
        return source.read()


train = function_owner.register_function(
    "logistic-regression-train", "python", payload("logistic_regression_train.py"),
    arguments=[{"key": "alg_alpha", "default_value": "0.3"}, {"key": "alg_iters", "default_value": "100"}],
    inputs=["training_data"], outputs=["model_file"])
predict = function_owner.register_function(
    "logistic-regression-predict", "python", payload("logistic_regression_predict.py"),
    inputs=["model_file", "data_file"], outputs=["result_file"])
print(f"registered {train['id']} and {predict['id']} (Python)")

samples = "".join(f"{x},{x * 0.5},{1 if x > 0 else 0}\n" for x in ((index % 20) / 10 - 1 for index in range(40)))
key = cloister.keygen("cloister-file-128")
training = scientist.client.upload_input(samples.encode(), key)
model = scientist.client.register_output("cloister-file-128", key)
task = scientist.client.create_task(
    train["id"], "cpython", function_arguments={"alg_iters": 200},
    inputs_ownership={"training_data": [scientist.id]}, outputs_ownership={"model_file": [scientist.id]})
scientist.client.assign_data(task["id"], inputs={"training_data": training["id"]}, outputs={"model_file": model["id"]})
scientist.client.invoke_task(task["id"])
trained = common.finish(scientist.client, task["id"])
weights = scientist.client.read_output(model["id"], key).decode().split()
common.expect(len(weights) == 3, f"the model should hold 3 weights, holds {weights}")
print(f"{task['id']}: {trained['result']['return_value']}")

model_input = scientist.client.register_input_from_output(model["id"])
query = scientist.client.upload_input(b"-0.8,-0.4\n0.9,0.45\n", key)
predictions = scientist.client.register_output("cloister-file-128", key)
task = scientist.client.create_task(
    predict["id"], "cpython",
    inputs_ownership={"model_file": [scientist.id], "data_file": [scientist.id]},
    outputs_ownership={"result_file": [scientist.id]})
scientist.client.assign_data(
    task["id"], inputs={"model_file": model_input["id"], "data_file": query["id"]}, outputs={"result_file": predictions["id"]})
scientist.client.invoke_task(task["id"])
predicted = common.finish(scientist.client, task["id"])
probabilities = [float(line) for line in scientist.client.read_output(predictions["id"], key).decode().split()]
common.expect(len(probabilities) == 2 and probabilities[0] < 0.5 < probabilities[1], f"predictions {probabilities}")
print(f"{task['id']}: {predicted['result']['return_value']}: {probabilities}")
