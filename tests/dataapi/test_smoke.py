from tests.helpers import add_affiliate, add_product, api


def test_commission_then_totals(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    client = app.test_client()
    code = add_affiliate(app)
    pid = add_product(app)
    r = api(client, api_key, code, commission={"product": pid, "saletotal": "9.99",
                                                "commtotal": "2.50"})
    assert r.status_code == 200, r.json
    r = api(client, api_key, code, data={"op": "commissions"})
    assert r.json == {"status": "ok", "data": {str(pid): {
        "commissions": "1", "sale_total": "9.99", "commission_total": "2.50",
        "last_commission": r.json["data"][str(pid)]["last_commission"]}}}
