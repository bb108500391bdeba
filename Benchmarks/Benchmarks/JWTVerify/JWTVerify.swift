import Benchmark
import HerzJWT

/// herz-jwt's whole verification of one token, as a ring thread runs it per call: size and
/// structure checks, strict base64url and JSON, key selection, the swift-crypto signature check
/// and the claims. Tokens and keys are RFC 7515's A.3 (ES256) and A.2 (RS256) examples, checked
/// at a time before their expiry. `bench/crypto` puts herz-jwt's rate over the rings next to
/// `openssl speed ecdsap256 rsa2048` (the bare signature verification) on the same machine.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(3))

    let payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    let es256 = (
        token: "eyJhbGciOiJFUzI1NiJ9." + payload + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
        keys: try! JWKSet.parse(Array(#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#.utf8)))
    let rs256 = (
        token: "eyJhbGciOiJSUzI1NiJ9." + payload
            + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
        keys: try! JWKSet.parse(Array(#"{"keys":[{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}]}"#.utf8)))
    let requirements = ClaimRequirements(issuer: "joe")

    for (name, case_) in [("ES256 verify (RFC 7515 A.3)", es256), ("RS256 verify (RFC 7515 A.2)", rs256)] {
        precondition((try? TokenVerifier.verify(case_.token, keys: case_.keys, requirements: requirements, maxTokenBytes: 8192,
                                                now: 1_300_819_000).get()) != nil, "\(name) must verify")
        Benchmark(name) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(TokenVerifier.verify(case_.token, keys: case_.keys, requirements: requirements, maxTokenBytes: 8192, now: 1_300_819_000))
            }
        }
    }
}
