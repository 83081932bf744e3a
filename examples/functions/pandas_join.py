"""Two banks join their customer lists on a key column (the scientific Python executor's example:
executor_type "python", executor "cpython-sci").

Inputs   bank_a: CSV "customer_id,balance" — bank A's customers.
         bank_b: CSV "customer_id,loans" — bank B's customers.
Outputs  report_a: for bank A alone — the customers both banks share and the total of bank B's
         loans over them; report_b: for bank B alone — the same customers and the total of bank
         A's balances over them. Each report is encrypted for its own bank: neither sees the
         other's rows, only the aggregate over the customers they share.
Result   "N shared customers".
"""
import pandas as pd

import cloister


def entrypoint(argv):
    with cloister.open_input("bank_a") as f:
        a = pd.read_csv(f, dtype={"customer_id": str})
    with cloister.open_input("bank_b") as f:
        b = pd.read_csv(f, dtype={"customer_id": str})
    shared = a.merge(b, on="customer_id", how="inner")
    with cloister.create_output("report_a") as f:
        f.write("shared_customers,total_loans_at_b\n%d,%.2f\n" % (len(shared), shared["loans"].sum()))
    with cloister.create_output("report_b") as f:
        f.write("shared_customers,total_balance_at_a\n%d,%.2f\n" % (len(shared), shared["balance"].sum()))
    return "%d shared customers" % len(shared)
