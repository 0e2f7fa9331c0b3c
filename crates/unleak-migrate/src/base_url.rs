//! The base-URL variables API clients read on their own, so a gateway-native workload
//! reaches the gateway's HTTP proxy listener without a code change.
//!
//! Owns: the table of upstream hosts whose official SDKs read a base URL from the
//! environment, with the path the client expects after it. Does not own: the edits that
//! set the variable (`rewrite`, `compose`).

/// (upstream host, variable, path the SDK expects after the host). Sources: the SDKs'
/// READMEs and client constructors: openai-python / openai-node read `OPENAI_BASE_URL`
/// (default `https://api.openai.com/v1`); anthropic-sdk-python / anthropic-sdk-typescript
/// read `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
const VARIABLES: &[(&str, &str, &str)] = &[
    ("api.openai.com", "OPENAI_BASE_URL", "/v1"),
    ("api.anthropic.com", "ANTHROPIC_BASE_URL", ""),
];

/// The variable a client of `host` reads its base URL from, and the path after the
/// gateway's address it must hold.
pub(crate) fn for_host(host: &str) -> Option<(&'static str, &'static str)> {
    VARIABLES
        .iter()
        .find(|(h, _, _)| h.eq_ignore_ascii_case(host))
        .map(|(_, var, path)| (*var, *path))
}

/// What to set the variable to, for an instruction.
pub(crate) fn value_hint(path: &str) -> String {
    format!(
        "the gateway's HTTP proxy URL (https://<hostname>:<port> of the minted credential){path}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hosts_only() {
        assert_eq!(for_host("API.openai.com"), Some(("OPENAI_BASE_URL", "/v1")));
        assert_eq!(
            for_host("api.anthropic.com"),
            Some(("ANTHROPIC_BASE_URL", ""))
        );
        assert_eq!(for_host("api.stripe.com"), None);
    }
}
