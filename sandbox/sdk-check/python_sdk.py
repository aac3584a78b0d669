"""Checks that Meta's official Python SDK (facebook-business) works against the sandbox.

Run the sandbox, then this script:

    cargo run -- sandbox --listen 127.0.0.1:4010 &
    python3 -m pip install facebook-business
    python3 sandbox/sdk-check/python_sdk.py http://127.0.0.1:4010

It resets the sandbox first, so it may be run again. It exits non-zero on the first mismatch.
"""

import json
import sys
import urllib.request

from facebook_business.adobjects.business import Business
from facebook_business.adobjects.businessrolerequest import BusinessRoleRequest
from facebook_business.adobjects.businessuser import BusinessUser
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi, FacebookRequest, FacebookSession
from facebook_business.exceptions import FacebookRequestError


def expect_error(call, code):
    try:
        call()
    except FacebookRequestError as error:
        assert error.api_error_code() == code, (error.api_error_code(), error.api_error_message())
        return error
    raise AssertionError(f"expected Graph error {code}")


def main(sandbox):
    urllib.request.urlopen(urllib.request.Request(f"{sandbox}/__sandbox/reset", method="POST", data=b"{}"))
    FacebookSession.GRAPH = sandbox
    api = FacebookAdsApi.init(access_token="demo-admin", api_version="v25.0")

    business = Business("200001").api_get(fields=["name", "vertical", "primary_page", "timezone_id"])
    assert business["name"] == "Pomni Media"
    assert business["vertical"] == "ENTERTAINMENT_AND_MEDIA"
    assert business["primary_page"]["id"] == "300001"

    me = User(fbid="me").api_get(fields=["name", "is_work_account"])
    assert me["name"] == "Alex Rivera" and me["is_work_account"] is False

    # limit=1 makes the SDK's cursor follow Graph's paging to the second page.
    names = [b["name"] for b in User(fbid="me").get_businesses(fields=["name"], params={"limit": 1})]
    assert sorted(names) == ["Kinger Labs", "Pomni Media"], names

    pages = list(Business("200001").get_owned_pages(fields=["name"]))
    assert [p["id"] for p in pages] == ["300001", "300002"], pages
    accounts = list(Business("200001").get_owned_ad_accounts(fields=["currency"]))
    assert [a["id"] for a in accounts] == ["act_400001", "act_400002"], accounts

    created = User(fbid="me").create_business(
        params={"name": "SDK Co", "vertical": "RETAIL", "primary_page": "300004"}
    )
    assert created["id"].isdigit()
    assert Business(created["id"]).api_get(fields=["name"])["name"] == "SDK Co"

    expect_error(lambda: User(fbid="me").create_business(params={"name": "No Page", "vertical": "RETAIL"}), 100)
    expect_error(lambda: FacebookRequest(node_id="200001", method="DELETE", endpoint="/").execute(), 100)

    results = []
    batch = api.new_batch()
    Business("200001").api_get(
        fields=["name"], batch=batch,
        success=lambda r: results.append(r.json()), failure=lambda r: results.append(r.json()),
    )
    Business("999").api_get(
        fields=["name"], batch=batch,
        success=lambda r: results.append(r.json()), failure=lambda r: results.append(r.json()),
    )
    batch.execute()
    assert results[0]["name"] == "Pomni Media", results
    assert results[1]["error"]["code"] == 100 and results[1]["error"]["error_subcode"] == 33, results

    bad = FacebookAdsApi.init(access_token="not-a-token", api_version="v25.0")
    error = expect_error(lambda: User(fbid="me", api=bad).api_get(fields=["name"]), 190)
    assert error.api_error_type() == "OAuthException"

    check_people_on_todays_api(sandbox)
    check_own_business_users_and_finance_tasks(sandbox)

    stats = json.load(urllib.request.urlopen(f"{sandbox}/__sandbox/stats"))
    print(f"facebook-business SDK: all checks passed ({stats['requests']} Graph requests)")


def control(sandbox, path, body):
    request = urllib.request.Request(
        f"{sandbox}{path}", method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request))


def check_people_on_todays_api(sandbox):
    """Today's people edges (docs/graph-api.md §8.7): business_users, pending_users, and the
    BusinessUser and BusinessRoleRequest writes, over the same people as userpermissions."""
    FacebookAdsApi.init(access_token="demo-admin", api_version="v25.0")
    pomni = Business("200001")
    users = list(pomni.get_business_users(fields=["name", "role", "tasks", "email"], params={"limit": 2}))
    assert [u["id"] for u in users] == ["710001", "710002", "710005"], users
    assert users[0]["name"] == "Alex Rivera (Pomni)" and users[0]["role"] == "ADMIN", users[0]
    assert users[1]["tasks"] == ["EMPLOYEE"], users[1]
    assert all(isinstance(u, BusinessUser) for u in users)

    pending = list(pomni.get_pending_users(fields=["email", "role", "status", "invite_link"]))
    assert [(p["id"], p["email"], p["status"]) for p in pending] == [
        ("720004", "riley@pomni.example", "PENDING")
    ], pending
    assert pending[0]["invite_link"].startswith(sandbox), pending[0]

    invited = pomni.create_business_user(
        params={"email": "sdk.person@pomni.example", "role": "EMPLOYEE", "tasks": ["EMPLOYEE"],
                "invited_user_type": ["FB"]}
    )
    request_id = invited["id"]
    # The invitation shows through the seed's edge too.
    people = FacebookRequest(node_id="200001", method="GET", endpoint="/userpermissions").add_params(
        {"fields": "email,status", "limit": 50}
    ).execute().json()["data"]
    assert {"email": "sdk.person@pomni.example", "status": "INVITED"} in [
        {"email": p.get("email"), "status": p["status"]} for p in people
    ], people
    request = BusinessRoleRequest(request_id).api_update(params={"role": "ADMIN"})
    assert BusinessRoleRequest(request_id).api_get(fields=["role"])["role"] == "ADMIN", request
    BusinessRoleRequest(request_id).api_delete()
    assert [p["id"] for p in pomni.get_pending_users()] == ["720004"]
    expect_error(lambda: pomni.create_business_user(params={"email": "sam@pomni.example", "role": "EMPLOYEE"}), 100)

    # Accepted outside Graph (the control plane), the invitation becomes a business user.
    control(sandbox, "/__sandbox/invitations/accept", {
        "business_id": "200001", "email": "riley@pomni.example", "first_name": "Riley", "last_name": "Quinn",
    })
    riley = [u for u in pomni.get_business_users(fields=["name"]) if u["name"] == "Riley Quinn"]
    assert len(riley) == 1, riley
    riley_id = riley[0]["id"]

    BusinessUser(riley_id).api_update(params={"role": "ADMIN", "tasks": ["ADMIN", "MANAGE"]})
    read = BusinessUser(riley_id).api_get(fields=["role", "tasks", "business"])
    assert read["role"] == "ADMIN" and read["tasks"] == ["ADMIN", "MANAGE"], read
    assert read["business"]["id"] == "200001", read
    BusinessUser(riley_id).api_delete()
    assert riley_id not in [u["id"] for u in pomni.get_business_users()]
    expect_error(lambda: BusinessUser(riley_id).api_get(fields=["name"]), 100)

    # A person edits their own profile; a new email waits as pending_email.
    employee = FacebookAdsApi(FacebookSession(access_token="demo-employee"), api_version="v25.0")
    sam = BusinessUser("710002", api=employee)
    sam.api_update(params={"title": "Producer", "email": "sam.new@pomni.example"})
    read = BusinessUser("710002", api=employee).api_get(fields=["title", "email", "pending_email"])
    assert (read["title"], read["email"], read["pending_email"]) == (
        "Producer", "sam@pomni.example", "sam.new@pomni.example"
    ), read
    BusinessUser("710002", api=employee).api_update(params={"clear_pending_email": True})
    assert "pending_email" not in BusinessUser("710002", api=employee).api_get(fields=["pending_email"])
    expect_error(lambda: BusinessUser("710001", api=employee).api_delete(), 200)


def check_own_business_users_and_finance_tasks(sandbox):
    """`me/business_users` (User.get_business_users): the token's own business users, one per
    business; and finance roles as a business user's tasks (docs/graph-api.md §8.7)."""
    FacebookAdsApi.init(access_token="demo-admin", api_version="v25.0")
    mine = list(User(fbid="me").get_business_users(fields=["business", "role", "name"], params={"limit": 1}))
    assert all(isinstance(u, BusinessUser) for u in mine)
    # Alex: ADMIN of Pomni Media, EMPLOYEE of Kinger Labs, and ADMIN of the business created
    # above, one business user each (the SDK's cursor follows Graph's paging with limit=1).
    assert [(u["business"]["name"], u["role"]) for u in mine] == [
        ("Pomni Media", "ADMIN"),
        ("Kinger Labs", "EMPLOYEE"),
        ("SDK Co", "ADMIN"),
    ], mine
    assert [u["id"] for u in mine[:2]] == ["710001", "710007"], mine
    assert mine[0]["name"] == "Alex Rivera (Pomni)", mine[0]

    # FINANCE_VIEW among Alex's tasks is the finance role invoices need.
    invoices = FacebookRequest(node_id="200001", method="GET", endpoint="/business_invoices").add_params(
        {"start_date": "2024-01-01", "end_date": "2024-02-01"}
    )
    expect_error(lambda: invoices.execute(), 200)
    alex = BusinessUser("710001")
    alex.api_update(params={"tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE", "FINANCE_VIEW"]})
    read = BusinessUser("710001").api_get(fields=["tasks", "finance_permission"])
    assert read["finance_permission"] == "FINANCE_ANALYST", read
    assert "FINANCE_VIEW" in read["tasks"] and "FINANCE_EDIT" not in read["tasks"], read
    listed = FacebookRequest(node_id="200001", method="GET", endpoint="/business_invoices").add_params(
        {"start_date": "2024-01-01", "end_date": "2024-02-01"}
    ).execute().json()["data"]
    assert [i["id"] for i in listed] == ["910001"], listed


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4010")
