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

    stats = json.load(urllib.request.urlopen(f"{sandbox}/__sandbox/stats"))
    print(f"facebook-business SDK: all checks passed ({stats['requests']} Graph requests)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4010")
