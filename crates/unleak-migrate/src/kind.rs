//! Which rewriter a file gets, from its path and a glance at its content; and the
//! deployment environment a path names.
//!
//! Owns: file-type detection (`.env`, Dockerfile, Kubernetes manifest, Helm values,
//! docker compose, GitHub Actions workflow) and environment inference for hoop's
//! `hoop.dev/infrastructure.environment` tag. Does not own: parsing those files.

use crate::model::FileKind;

pub(crate) fn detect(path: &str, data: &[u8]) -> FileKind {
    let norm = path.replace('\\', "/");
    let name = norm.rsplit('/').next().unwrap_or(&norm);
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if lower == ".env"
        || (lower.starts_with(".env.") && lower != ".env.example")
        || lower.ends_with(".env")
    {
        return FileKind::Dotenv;
    }
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
    {
        return FileKind::Dockerfile;
    }
    if !yaml {
        return FileKind::Other;
    }
    if norm.contains(".github/workflows/") {
        return FileKind::GithubWorkflow;
    }
    if lower.starts_with("docker-compose")
        || lower.starts_with("compose.")
        || lower.starts_with("compose-")
    {
        return FileKind::Compose;
    }
    if lower.starts_with("values") {
        return FileKind::HelmValues;
    }
    let text = String::from_utf8_lossy(data);
    let top = |key: &str| text.lines().any(|l| l.starts_with(key));
    if top("apiVersion:") && top("kind:") {
        return FileKind::Kubernetes;
    }
    FileKind::Other
}

/// hoop's environment tag values, inferred from path segments (`values-prod.yaml`,
/// `.env.production`, `overlays/staging/…`).
pub(crate) fn environment(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |names: &[&str]| words.iter().any(|w| names.contains(w));
    if has(&["prod", "production", "prd"]) {
        Some("prod")
    } else if has(&["staging", "stage", "stg"]) {
        Some("staging")
    } else if has(&["qa"]) {
        Some("qa")
    } else if has(&["sandbox"]) {
        Some("sandbox")
    } else if has(&["dev", "development"]) {
        Some("dev")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names_and_content() {
        assert_eq!(detect("app/.env", b""), FileKind::Dotenv);
        assert_eq!(detect(".env.production", b""), FileKind::Dotenv);
        assert_eq!(detect("svc/Dockerfile", b""), FileKind::Dockerfile);
        assert_eq!(detect("build.Dockerfile", b""), FileKind::Dockerfile);
        assert_eq!(
            detect(".github/workflows/ci.yml", b""),
            FileKind::GithubWorkflow
        );
        assert_eq!(detect("docker-compose.yml", b""), FileKind::Compose);
        assert_eq!(detect("compose.yaml", b""), FileKind::Compose);
        assert_eq!(detect("chart/values-prod.yaml", b""), FileKind::HelmValues);
        assert_eq!(
            detect("k8s/deploy.yaml", b"apiVersion: v1\nkind: Pod\n"),
            FileKind::Kubernetes
        );
        assert_eq!(detect("config.yaml", b"a: 1\n"), FileKind::Other);
        assert_eq!(detect("settings.py", b""), FileKind::Other);
    }

    #[test]
    fn environments_from_paths() {
        assert_eq!(environment("deploy/values-prod.yaml"), Some("prod"));
        assert_eq!(environment(".env.production"), Some("prod"));
        assert_eq!(environment("overlays/staging/app.yaml"), Some("staging"));
        assert_eq!(environment("app/.env"), None);
        assert_eq!(environment("product/x.yaml"), None);
    }
}
