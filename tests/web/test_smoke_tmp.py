from tests.web.support import *
def test_smoke(app):
    c = merchant_client(app)
    for p in ["/", "/admin/", "/admin/affiliates", "/admin/commissions", "/admin/payouts", "/admin/payments", "/admin/products", "/admin/keys", "/account", "/assets/affsrv.css"]:
        r = c.get(p)
        print(p, r.status_code, r.headers.get("Location"), r.headers.get("Content-Security-Policy"))
        if r.status_code >= 400 or p == "/admin/payouts": print(r.get_data(as_text=True)[:3000])
