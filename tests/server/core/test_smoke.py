from tests import factories


def test_health_and_ready(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_manager_lists_own_area(client, db):
    a = factories.area(db)
    factories.user(db, a.id, "manager", "mgr")
    db.commit()
    tok = factories.token(client, "mgr")
    body = client.get("/api/v1/areas", headers=factories.auth(tok)).get_json()
    assert [x["slug"] for x in body] == [a.slug]
