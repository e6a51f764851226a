"""SDK-HMAC-SHA256 signing of outgoing `requests` requests, done by the official Huawei SDK's own signer.

`HuaweiSigner` is a `requests` auth hook: it sees the prepared request (final URL, headers and the
exact body bytes), builds the SDK's `SdkRequest` from it, lets `huaweicloudsdkcore`'s `Signer`
add `X-Sdk-Date`, `Host` and `Authorization`, and sends the query in the signer's canonical
form, as the SDK itself does.
"""

from urllib.parse import parse_qsl, urlsplit

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

# Headers the SDK signs besides the ones the signer adds itself (Host, X-Sdk-Date).
SIGNED_HEADERS = ("content-type", "user-agent", "x-project-id")


class HuaweiSigner(requests.auth.AuthBase):
    """Signs each request with an access key / secret key pair."""

    def __init__(self, ak: str, sk: str):
        self._signer = Signer(BasicCredentials(ak, sk))

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(r.url)
        body = r.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {k: v for k, v in r.headers.items() if k.lower() in SIGNED_HEADERS}
        for stale in ("X-Sdk-Date", "Authorization", "Host"):
            r.headers.pop(stale, None)
        request = SdkRequest(
            method=r.method,
            schema=parts.scheme,
            host=parts.netloc,
            resource_path=parts.path or "/",
            query_params=parse_qsl(parts.query, keep_blank_values=True),
            header_params=headers,
            body=body or b"",
        )
        self._signer.sign(request)
        for name, value in request.header_params.items():
            r.headers[name] = value
        r.url = f"{parts.scheme}://{parts.netloc}{request.uri}"
        return r


def session(ak: str, sk: str) -> requests.Session:
    """A session whose every request is signed."""
    s = requests.Session()
    s.auth = HuaweiSigner(ak, sk)
    s.trust_env = False
    return s
