//! The base-URL variables API clients read on their own, so a gateway-native workload
//! reaches the gateway's HTTP proxy listener without a code change.
//!
//! Owns: the table of upstream hosts whose official SDKs read a base URL from the
//! environment, with the path the client expects after it, and the check of
//! `--gateway-url`, the address those variables are set to. Where the address comes
//! from: `--gateway-url` when given (the listener as the workloads reach it); otherwise
//! the variable is left for the operator, and `register.sh` keeps the hostname and port
//! hoop reports for the minted credential next to it in the vault. hoop reports the
//! listener's configured address (gateway/services/credentials.go:240-268), which can be
//! a bind address such as `0.0.0.0`, so the flag is the reliable source. Does not own:
//! the edits that set the variable (`rewrite`, `compose`).

/// (upstream host, variable, path the SDK expects after the host). Sources: the SDKs'
/// READMEs and client constructors: openai-python / openai-node read `OPENAI_BASE_URL`
/// (default `https://api.openai.com/v1`); anthropic-sdk-python / anthropic-sdk-typescript
/// read `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`); huggingface_hub reads
/// `HF_ENDPOINT` (default `https://huggingface.co`); the langsmith SDKs read
/// `LANGSMITH_ENDPOINT` (default `https://api.smith.langchain.com`). Only hosts whose
/// rule targets the bare host: a client that adds a path of its own to a target that has
/// one (Groq's `/openai`, Cerebras' `/v1`) would ask the upstream for it twice.
const VARIABLES: &[(&str, &str, &str)] = &[
    ("api.openai.com", "OPENAI_BASE_URL", "/v1"),
    ("api.anthropic.com", "ANTHROPIC_BASE_URL", ""),
    ("huggingface.co", "HF_ENDPOINT", ""),
    ("api.smith.langchain.com", "LANGSMITH_ENDPOINT", ""),
];

/// `--gateway-url`: `http(s)://host[:port]`, nothing after the authority but one `/`.
/// Returns it without the trailing `/`. The value is written unquoted into `.env` files
/// and into YAML scalars, so only URL authority characters are taken.
pub fn check_gateway_url(text: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "`{}` {why}; give the gateway's HTTP proxy listener as workloads reach it, e.g. https://hoop.example.com:18888",
            crate::text::printable(text)
        )
    };
    let t = text.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| bad("is not an http:// or https:// URL"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(bad("has no host"));
    }
    if authority.contains('@') {
        return Err(bad(
            "holds a user name or password, which would end up in files",
        ));
    }
    if !authority
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(bad("has more than a host and port"));
    }
    Ok(t.strip_suffix('/').unwrap_or(t).to_string())
}

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
        "the gateway's HTTP proxy URL as the workload reaches it ({{scheme}}://HOSTNAME:PORT, which register.sh keeps next to the credential, or re-run with --gateway-url){path}"
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
        assert_eq!(for_host("huggingface.co"), Some(("HF_ENDPOINT", "")));
        assert_eq!(for_host("api.stripe.com"), None);
        assert_eq!(for_host("api.groq.com"), None);
    }

    #[test]
    fn gateway_urls_are_a_scheme_and_an_authority() {
        assert_eq!(
            check_gateway_url("https://hoop.example.com:18888/").as_deref(),
            Ok("https://hoop.example.com:18888")
        );
        assert_eq!(
            check_gateway_url("http://10.0.0.5:8081").as_deref(),
            Ok("http://10.0.0.5:8081")
        );
        for (bad, why) in [
            ("hoop.example.com", "not an http"),
            ("ftp://h", "not an http"),
            ("https://", "no host"),
            ("https://u:p@h", "user name"),
            ("https://h/v1", "more than a host"),
            ("https://h?x=1", "more than a host"),
            ("https://h h", "more than a host"),
        ] {
            assert!(check_gateway_url(bad).unwrap_err().contains(why), "{bad}");
        }
    }
}
