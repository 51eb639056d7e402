//! update() tests for every screen and insta snapshots of every screen (mono theme, fixed clock,
//! 80×24 and 120×40).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secrecy::ExposeSecret;

use super::model::*;
use super::update::{Effect, FieldId, Msg, component_rows, fields, focused};
use crate::domain::naming::{Location, Provider};
use crate::tui::runtime::{Input, render_guarded};
use crate::tui::theme::Theme;

const NOW: i64 = 1_790_000_000;
const TOKEN: &str = "PLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtoken0001";
const PUBKEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

pub(super) fn key(code: KeyCode) -> Input<Msg> {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}
fn ctrl(c: char) -> Input<Msg> {
    Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}
pub(super) fn typed(m: &mut Model, text: &str) -> Vec<Effect> {
    let mut all = Vec::new();
    for c in text.chars() {
        all.extend(m.update(key(KeyCode::Char(c))));
    }
    all
}
fn focus_on(m: &mut Model, field: FieldId) {
    m.focus = fields(m, m.form.step)
        .iter()
        .position(|f| *f == field)
        .expect("field on screen");
}

pub(super) fn fresh() -> Model {
    let mut m = Model::new(Form::default(), Some(1), NOW);
    m.secret_store_kind = "memory only".into();
    m
}

/// Organization, pasted SSH key and API access filled in; the rest as a new draft has it.
pub(super) fn acme_form() -> Form {
    Form {
        org_name: "Acme Financial".into(),
        org_slug: "acme".into(),
        domain: "acme.io".into(),
        email: "platform@acme.io".into(),
        ssh_mode: SshMode::Paste,
        ssh_public_key: PUBKEY.into(),
        api_allowed_cidrs: "198.51.100.7/32".into(),
        ..Form::default()
    }
}

/// A model with every screen valid.
fn filled() -> Model {
    let form = Form {
        reached: Step::Review,
        ..acme_form()
    };
    let mut m = Model::new(form, Some(1), NOW);
    m.secret_store_kind = "memory only".into();
    m.tofu = TofuCheck::Found {
        path: "/opt/tofu/bin/tofu".into(),
        version: "1.10.2".into(),
    };
    m.token.field.set(TOKEN);
    m.check = CheckState::Valid("token accepted by the Hetzner Cloud API".into());
    m
}

pub(super) fn saved_data(effects: &[Effect]) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SaveDraft { data, .. } => Some(data.clone()),
        _ => None,
    })
}

// ---------------------------------------------------------------- Organization

#[test]
fn organization_typing_name_derives_slug_and_saves() {
    let mut m = fresh();
    let effects = typed(&mut m, "Acme Financial");
    assert_eq!(m.form.org_name, "Acme Financial");
    assert_eq!(m.form.org_slug, "acme-financial");
    let data = saved_data(&effects).expect("every change is saved");
    assert!(data.contains("acme-financial"));
}

#[test]
fn organization_edited_slug_stops_following_name() {
    let mut m = fresh();
    typed(&mut m, "Acme");
    focus_on(&mut m, FieldId::OrgSlug);
    m.update(ctrl('u'));
    typed(&mut m, "acmefin");
    focus_on(&mut m, FieldId::OrgName);
    typed(&mut m, " Corp");
    assert_eq!(m.form.org_slug, "acmefin");
}

#[test]
fn organization_q_and_question_mark_in_text_are_typed_not_commands() {
    let mut m = fresh();
    typed(&mut m, "Quaq?");
    assert_eq!(m.form.org_name, "Quaq?");
    assert!(!m.finished && !m.show_help);
}

#[test]
fn organization_bad_email_error_names_field_and_rule() {
    let mut m = fresh();
    focus_on(&mut m, FieldId::Email);
    typed(&mut m, "not-an-email");
    let errs = m.errors_for(Step::Organization);
    let e = errs
        .iter()
        .find(|e| e.field == "organization.email")
        .expect("email error");
    assert!(!e.message.is_empty());
}

#[test]
fn organization_paste_of_garbage_is_cleaned_and_capped() {
    let mut m = fresh();
    let garbage = format!("Acme\x1b[31m\n{}", "漢".repeat(10_000));
    m.update(Input::Paste(garbage));
    assert!(!m.form.org_name.contains('\x1b') && !m.form.org_name.contains('\n'));
    assert!(m.form.org_name.chars().count() <= crate::domain::naming::ORG_NAME_MAX);
    assert!(m.status.as_ref().is_some_and(|n| n.error));
}

#[test]
fn organization_name_rule_is_the_same_in_the_field_review_and_export() {
    // A draft carrying a 128-character name (an older field allowed it, or an import).
    let mut m = filled();
    m.form.org_name = "A".repeat(128);
    let field = m
        .errors_for(Step::Organization)
        .into_iter()
        .find(|e| e.field == "organization.name")
        .expect("the field reports the limit");
    assert!(field.message.contains("at most 100"), "{}", field.message);
    let review: Vec<_> = m.all_errors().into_iter().map(|(_, e)| e).collect();
    assert!(review.contains(&field), "Review lists the same problem");
    let export = super::export::to_config(&m).validate();
    assert!(
        export.contains(&field),
        "export refuses with the same words"
    );
    // Typing stops at the limit the validators apply.
    let mut m = fresh();
    typed(&mut m, &"B".repeat(120));
    assert_eq!(m.form.org_name.chars().count(), 100);
    assert!(
        !m.errors_for(Step::Organization)
            .iter()
            .any(|e| e.field == "organization.name")
    );
}

#[test]
fn organization_environment_cycles_with_arrows() {
    let mut m = fresh();
    focus_on(&mut m, FieldId::Env);
    m.update(key(KeyCode::Right));
    assert_eq!(m.form.env.code(), "stg");
    m.update(key(KeyCode::Left));
    m.update(key(KeyCode::Left));
    assert_eq!(m.form.env.code(), "poc");
}

#[test]
fn organization_enter_on_last_field_moves_to_credentials() {
    let mut m = filled();
    m.form.step = Step::Organization;
    focus_on(&mut m, FieldId::Env);
    m.update(key(KeyCode::Enter));
    assert_eq!(m.form.step, Step::Credentials);
}

#[test]
fn form_keys_with_ctrl_are_not_the_plain_keys() {
    let with_ctrl = |code| Input::Key(KeyEvent::new(code, KeyModifiers::CONTROL));
    let mut m = filled();
    m.form.step = Step::Organization;
    focus_on(&mut m, FieldId::Env);
    let env = m.form.env;
    // Ctrl+Space does not cycle a choice, Ctrl+Right/Left neither.
    for code in [KeyCode::Char(' '), KeyCode::Right, KeyCode::Left] {
        m.update(with_ctrl(code));
    }
    assert_eq!(m.form.env, env);
    // Ctrl+Enter is not Enter (which would leave the last field for the next screen), and
    // Ctrl+PgDn / Ctrl+Esc do not change screens.
    for code in [KeyCode::Enter, KeyCode::PageDown, KeyCode::Esc] {
        m.update(with_ctrl(code));
    }
    assert_eq!(m.form.step, Step::Organization);
    assert_eq!(focused(&m), Some(FieldId::Env));
    // The same keys without Ctrl act.
    m.update(key(KeyCode::Char(' ')));
    assert_ne!(m.form.env, env);
    m.update(key(KeyCode::Enter));
    assert_eq!(m.form.step, Step::Credentials);
    // Ctrl+Down does not move through the providers' list.
    m.form.step = Step::Provider;
    m.focus = 0;
    let provider = m.form.provider;
    m.update(with_ctrl(KeyCode::Down));
    assert_eq!(m.form.provider, provider);
    m.update(key(KeyCode::Down));
    assert_ne!(m.form.provider, provider);
}

#[test]
fn path_prompt_ctrl_enter_does_not_write() {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('e')));
    assert!(m.prompt.is_some(), "e asks where to export");
    let effects = m.update(Input::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::CONTROL,
    )));
    assert!(effects.is_empty() && m.prompt.is_some());
    let effects = m.update(key(KeyCode::Enter));
    assert!(effects.iter().any(|e| matches!(e, Effect::Export { .. })));
}

// ---------------------------------------------------------------- Credentials

fn on_credentials() -> Model {
    let mut m = fresh();
    m.form.step = Step::Credentials;
    m
}

#[test]
fn credentials_token_goes_to_secret_store_never_to_draft() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::Token);
    let effects = typed(&mut m, TOKEN);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::StoreSecret {
            name: SecretName::ProviderToken,
            ..
        }
    )));
    assert!(
        saved_data(&effects).is_none(),
        "typing a token must not save it in the draft"
    );
    // And the next draft save has no trace of it either.
    focus_on(&mut m, FieldId::StateBackend);
    let effects = m.update(key(KeyCode::Right));
    let data = saved_data(&effects).unwrap();
    assert!(!data.contains("PLANTED"));
    assert!(
        !format!("{m:?}").contains("PLANTED"),
        "Debug must not print secrets"
    );
}

#[test]
fn credentials_enter_on_token_starts_live_check() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, TOKEN);
    let effects = m.update(key(KeyCode::Enter));
    let generation_seen = effects
        .iter()
        .find_map(|e| match e {
            Effect::CheckToken {
                generation, token, ..
            } => {
                assert_eq!(token.expose_secret(), TOKEN);
                Some(*generation)
            }
            _ => None,
        })
        .expect("check requested");
    assert_eq!(m.check, CheckState::Checking);
    m.update(Input::Msg(Msg::TokenChecked {
        generation: generation_seen,
        result: Err(CheckFailure::Rejected { status: 401 }),
    }));
    assert!(matches!(
        m.check,
        CheckState::Failed(CheckFailure::Rejected { status: 401 })
    ));
    let err = m.errors_for(Step::Credentials);
    assert!(err.iter().any(|e| e.message.contains("401")));
}

#[test]
fn credentials_short_token_fails_without_network() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, "short");
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. }))
    );
    assert!(matches!(
        m.check,
        CheckState::Failed(CheckFailure::TooShort { .. })
    ));
}

#[test]
fn credentials_stale_check_result_is_ignored_after_edit() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, TOKEN);
    let generation_seen = m.check_generation;
    m.update(key(KeyCode::Enter));
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, "x");
    m.update(Input::Msg(Msg::TokenChecked {
        generation: generation_seen + 1,
        result: Ok("ok".into()),
    }));
    assert_eq!(m.check, CheckState::NotChecked);
}

#[test]
fn credentials_ctrl_o_reveals_token() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::Token);
    assert!(!m.token.revealed);
    m.update(ctrl('o'));
    assert!(m.token.revealed);
}

#[test]
fn credentials_s3_backend_adds_fields_with_rules() {
    let mut m = on_credentials();
    let before = fields(&m, Step::Credentials).len();
    focus_on(&mut m, FieldId::StateBackend);
    m.update(key(KeyCode::Right));
    assert_eq!(m.form.state_backend, StateBackend::S3);
    assert_eq!(fields(&m, Step::Credentials).len(), before + 5);
    focus_on(&mut m, FieldId::S3Bucket);
    typed(&mut m, "UPPER");
    assert!(
        m.errors_for(Step::Credentials)
            .iter()
            .any(|e| e.field == "state.s3.bucket")
    );
}

#[test]
fn credentials_enter_on_ssh_key_generates_then_prompts_for_private_path() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::SshKey);
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::GenerateSshKey { .. }))
    );
    let pair = super::sshkey::from_seed(&[1; 32], "openova").unwrap();
    m.update(Input::Msg(Msg::SshKeyGenerated {
        public: pair.public_line.clone(),
        key: GeneratedKey {
            private_openssh: pair.private_openssh,
            fingerprint: "SHA256:x".into(),
        },
    }));
    assert_eq!(m.form.ssh_public_key, pair.public_line);
    assert_eq!(
        m.prompt.as_ref().map(|p| p.purpose),
        Some(PromptPurpose::SavePrivateKey)
    );
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::WritePrivateKey { .. }))
    );
    // Esc instead drops the private key for good.
    m.update(key(KeyCode::Esc));
    assert!(m.generated.is_none() && m.prompt.is_none());
}

#[test]
fn credentials_pasted_private_key_is_rejected_with_reason() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::SshMode);
    m.update(key(KeyCode::Right));
    focus_on(&mut m, FieldId::SshKey);
    m.update(Input::Paste("-----BEGIN OPENSSH PRIVATE KEY-----".into()));
    let errs = m.errors_for(Step::Credentials);
    assert!(
        errs.iter()
            .any(|e| e.field == "ssh.public_key" && e.message.contains("private key"))
    );
}

#[test]
fn credentials_memory_only_forgets_keyring_copies() {
    let mut m = on_credentials();
    focus_on(&mut m, FieldId::SecretStorage);
    let effects = m.update(key(KeyCode::Right));
    assert_eq!(m.form.secret_storage, SecretStorage::Memory);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ForgetStoredSecrets { draft: 1 }))
    );
}

// ---------------------------------------------------------------- Provider

#[test]
fn provider_change_resets_locations_and_check() {
    let mut m = filled();
    m.form.step = Step::Provider;
    m.focus = 0;
    m.update(key(KeyCode::Down));
    assert_eq!(m.form.provider, Provider::HuaweiCloud);
    assert_eq!(m.form.regions[0].location.provider(), Provider::HuaweiCloud);
    assert_eq!(m.check, CheckState::NotChecked);
    assert!(m.cluster_names()[0].starts_with("hw-"));
}

// ---------------------------------------------------------------- Regions

#[test]
fn regions_second_region_gets_distinct_name_and_cost_updates() {
    let mut m = filled();
    m.form.step = Step::Regions;
    m.focus = 0;
    let one = m.monthly_cost().unwrap();
    m.update(key(KeyCode::Right));
    assert_eq!(m.form.regions.len(), 2);
    assert_eq!(
        m.cluster_names(),
        vec!["hz-fsn-rtz-prod".to_string(), "hz-nbg-rtz-prod".to_string()]
    );
    assert!((m.monthly_cost().unwrap() - 2.0 * one).abs() < 0.001);
}

#[test]
fn regions_same_name_twice_is_an_error() {
    let mut m = filled();
    m.form.step = Step::Regions;
    m.focus = 0;
    m.update(key(KeyCode::Right));
    focus_on(&mut m, FieldId::Location(1));
    m.update(key(KeyCode::Left));
    assert_eq!(m.form.regions[1].location, Location::Fsn);
    assert!(
        m.errors_for(Step::Regions)
            .iter()
            .any(|e| e.message.contains("same cluster name"))
    );
}

#[test]
fn regions_worker_count_stays_within_limits() {
    let mut m = filled();
    m.form.step = Step::Regions;
    focus_on(&mut m, FieldId::WorkerCount(0));
    for _ in 0..10 {
        m.update(key(KeyCode::Left));
    }
    assert_eq!(m.form.regions[0].worker_count, 0);
    for _ in 0..100 {
        m.update(key(KeyCode::Right));
    }
    assert_eq!(
        m.form.regions[0].worker_count,
        crate::domain::naming::MAX_WORKERS
    );
}

// ---------------------------------------------------------------- Components

fn on_components() -> Model {
    let mut m = filled();
    m.form.step = Step::Components;
    m
}

fn cursor_to(m: &mut Model, name: &str) {
    m.component_cursor = component_rows(m)
        .iter()
        .position(|r| r.name == name)
        .expect(name);
}

#[test]
fn components_selecting_with_dependencies_asks_and_lists_them() {
    let mut m = on_components();
    cursor_to(&mut m, "debezium");
    m.update(key(KeyCode::Char(' ')));
    let dialog = m.dialogs.last().expect("dependency dialog");
    assert!(
        dialog
            .body
            .iter()
            .any(|l| l.contains("strimzi") && l.contains("required by debezium")),
        "{:?}",
        dialog.body
    );
    m.update(key(KeyCode::Char('y')));
    assert!(m.form.components.contains("debezium") && m.form.components.contains("strimzi"));
}

#[test]
fn components_deselecting_a_dependency_lists_dependents_and_keep_cancels() {
    let mut m = on_components();
    m.form
        .components
        .extend(["debezium".to_string(), "strimzi".to_string()]);
    cursor_to(&mut m, "strimzi");
    m.update(key(KeyCode::Char(' ')));
    let dialog = m.dialogs.last().expect("removal dialog");
    assert!(dialog.body.iter().any(|l| l.contains("debezium")));
    m.update(key(KeyCode::Char('n')));
    assert!(m.form.components.contains("strimzi"));
    m.update(key(KeyCode::Char(' ')));
    m.update(key(KeyCode::Enter));
    assert!(!m.form.components.contains("strimzi") && !m.form.components.contains("debezium"));
}

#[test]
fn components_mandatory_cannot_be_deselected() {
    let mut m = on_components();
    cursor_to(&mut m, "cilium");
    m.update(key(KeyCode::Char(' ')));
    assert!(m.dialogs.is_empty());
    assert!(m.status.as_ref().unwrap().text.contains("mandatory"));
    assert!(
        component_rows(&m)
            .iter()
            .find(|r| r.name == "cilium")
            .unwrap()
            .selected
    );
}

#[test]
fn components_filter_narrows_list() {
    let mut m = on_components();
    m.update(key(KeyCode::Char('/')));
    assert!(m.filtering);
    typed(&mut m, "strimzi");
    let rows = component_rows(&m);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.name.contains("strimzi")
        || r.title.to_lowercase().contains("strimzi")
        || r.description.to_lowercase().contains("strimzi")));
    m.update(key(KeyCode::Esc));
    assert!(component_rows(&m).len() > rows.len());
}

#[test]
fn components_counter_counts_the_selection_a_filter_hides() {
    let mut m = on_components();
    m.form.components.insert("strimzi".into());
    let before = super::update::selected_count(&m);
    m.filter.set("zzz-nothing");
    assert!(component_rows(&m).is_empty());
    let screen = draw(&m, 80, 24);
    assert!(
        screen.contains(&format!(" {before} selected")),
        "the counter counts what the filter hides:\n{screen}"
    );
}

#[test]
fn components_esc_with_a_kept_filter_clears_it_before_leaving() {
    let mut m = on_components();
    m.update(key(KeyCode::Char('/')));
    typed(&mut m, "strimzi");
    m.update(key(KeyCode::Enter));
    assert!(!m.filtering && m.filter.value() == "strimzi");
    assert!(
        super::screens::key_hints(&m)
            .iter()
            .any(|h| h.key == "Esc" && h.action == "clear filter" && h.footer),
        "the footer says what Esc does"
    );
    m.update(key(KeyCode::Esc));
    assert_eq!(m.filter.value(), "");
    assert_eq!(m.form.step, Step::Components, "the first Esc only clears");
    m.update(key(KeyCode::Esc));
    assert_eq!(m.form.step, Step::Regions);
}

#[test]
fn components_a_requirement_already_in_is_still_named() {
    let mut m = on_components();
    cursor_to(&mut m, "ferretdb");
    m.update(key(KeyCode::Char(' ')));
    assert!(m.form.components.contains("ferretdb"));
    let text = &m.status.as_ref().expect("notice").text;
    assert!(
        text.contains("needs cnpg (mandatory, already included)"),
        "{text}"
    );
}

#[test]
fn components_ai_hub_offers_its_optional_members() {
    let mut m = on_components();
    cursor_to(&mut m, "ai-hub");
    m.update(key(KeyCode::Char(' ')));
    let add = m.dialogs.last().expect("add dialog");
    assert!(
        add.body
            .iter()
            .any(|l| l.contains("needs cnpg (mandatory, already included)")),
        "{:?}",
        add.body
    );
    m.update(key(KeyCode::Char('y')));
    assert!(m.form.components.contains("ai-hub") && m.form.components.contains("kserve"));
    let offer = m.dialogs.last().expect("optional members offered next");
    for name in [
        "neo4j",
        "nemo-guardrails",
        "bge",
        "llm-gateway",
        "librechat",
        "axon",
    ] {
        assert!(
            offer.body.iter().any(|l| l.contains(name)),
            "{name} not offered: {:?}",
            offer.body
        );
    }
    assert!(!m.form.components.contains("neo4j"), "not added unasked");
    m.update(key(KeyCode::Char('y')));
    assert!(m.dialogs.is_empty());
    assert!(m.form.components.contains("neo4j") && m.form.components.contains("librechat"));
}

// ---------------------------------------------------------------- Review

#[test]
fn review_scroll_stops_at_the_end_of_the_content() {
    let mut m = filled();
    m.form.step = Step::Review;
    for _ in 0..300 {
        m.update(key(KeyCode::Down));
    }
    let lines = super::screens::review::lines(&m, &Theme::mono()).len();
    assert!(
        (m.review_scroll as usize) < lines,
        "scrolled to {} of {lines} lines",
        m.review_scroll
    );
    let screen = draw(&m, 80, 24);
    assert!(
        screen.contains("selected"),
        "the last line stays on screen:\n{screen}"
    );
    m.update(key(KeyCode::Up));
    assert!((m.review_scroll as usize) < lines - 1 || lines < 2);
}

#[test]
fn resume_progress_counts_complete_screens_not_the_furthest_index() {
    let mut m = fresh();
    m.form.reached = Step::Components;
    // Organization and Credentials have errors, and so has Regions (who may reach the API is
    // not said yet); Provider is complete.
    assert_eq!(m.progress(), 1);
    assert_eq!(filled().progress(), 6);
}

#[test]
fn review_errors_are_listed_and_enter_jumps_to_field() {
    let mut m = filled();
    m.form.email = "nope".into();
    m.inputs = Inputs::from_form(&m.form);
    m.form.step = Step::Review;
    m.update(key(KeyCode::Enter));
    assert_eq!(m.form.step, Step::Organization);
    assert_eq!(focused(&m), Some(FieldId::Email));
}

#[test]
fn review_start_asks_first_then_starts_run_with_held_secrets() {
    let mut m = filled();
    m.form.step = Step::Review;
    let effects = m.update(key(KeyCode::Char('s')));
    assert!(effects.is_empty(), "nothing starts without confirmation");
    let dialog = m.dialogs.last().expect("confirmation");
    assert!(dialog.body.iter().any(|l| l.contains("hz-fsn-rtz-prod")));
    assert!(dialog.body.iter().any(|l| l.contains("€")));
    let effects = m.update(key(KeyCode::Char('y')));
    let (config, secrets) = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRun {
                config, secrets, ..
            } => Some((config.clone(), secrets.clone())),
            _ => None,
        })
        .expect("start effect");
    assert_eq!(config.cluster_names(), vec!["hz-fsn-rtz-prod".to_string()]);
    assert!(
        secrets
            .iter()
            .any(|(n, v)| *n == SecretName::ProviderToken && v.expose_secret() == TOKEN)
    );
}

#[test]
fn review_start_with_problems_refuses_and_counts_them() {
    let mut m = filled();
    m.form.email = "bad".into();
    m.form.step = Step::Review;
    let effects = m.update(key(KeyCode::Char('s')));
    assert!(effects.is_empty() && m.dialogs.is_empty());
    assert!(m.status.as_ref().unwrap().text.contains("1 problem"));
}

#[test]
fn progress_run_started_polls_on_tick_and_leave_keeps_run() {
    let mut m = filled();
    m.form.step = Step::Review;
    let effects = m.update(Input::Msg(Msg::RunStarted(Ok("run-1".into()))));
    assert!(matches!(&effects[..], [Effect::PollRun { id, after: 0 }] if id == "run-1"));
    assert!(matches!(m.mode, Mode::Progress(_)));
    let effects = m.update(Input::Tick);
    assert!(matches!(&effects[..], [Effect::PollRun { .. }]));
    // q asks, because the run keeps going.
    m.update(key(KeyCode::Char('q')));
    assert!(!m.finished);
    assert_eq!(
        m.dialogs.last().map(|d| d.intent.clone()),
        Some(Intent::Quit)
    );
}

/// Polls run `run-9` in `state`: an apply that got as far as applying (and, when `state` is
/// `Failed`, failed there).
fn poll_run(m: &mut Model, state: crate::store::runs::RunState) {
    use crate::store::runs::{EventRecord, RunAction, RunRecord};
    let event = |seq: i64, state: &str| EventRecord {
        seq,
        at_ms: NOW * 1000 + seq * 1000,
        phase: "supervisor".into(),
        kind: "state".into(),
        level: "info".into(),
        message: format!("run is now {state}"),
        raw: format!(r#"{{"state":"{state}"}}"#),
    };
    let ended = state.is_terminal();
    let run = RunRecord {
        id: "run-9".into(),
        action: RunAction::Apply,
        state,
        platform: "acme".into(),
        config_toml: String::new(),
        config_path: None,
        workspace: String::new(),
        options_json: "{}".into(),
        supervisor_pid: None,
        heartbeat_ms: None,
        created_ms: NOW * 1000,
        finished_ms: ended.then_some(NOW * 1000 + 9_000),
        error: ended.then(|| "tofu apply: server type cx99 not found".into()),
        next_step: None,
    };
    m.update(Input::Msg(Msg::RunPolled {
        now_ms: NOW * 1000 + 9_000,
        run: Some(Box::new(run)),
        events: vec![event(1, "init"), event(2, "plan"), event(3, "apply")],
    }));
}

/// A wizard watching run `run-9`, which failed while applying.
fn failed_run_model() -> Model {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(Input::Msg(Msg::RunStarted(Ok("run-9".into()))));
    poll_run(&mut m, crate::store::runs::RunState::Failed);
    m
}

#[test]
fn progress_failed_run_says_final_state_reason_and_what_to_do() {
    let m = failed_run_model();
    assert_eq!(
        m.status, None,
        "the 'started' notice is gone once the run ended"
    );
    let screen = draw(&m, 80, 24);
    for want in [
        "Run run-9 failed: tofu apply: server type cx99 not found",
        "r plans again from Review",
        "openova runs logs run-9",
        "bootstrap destroy --config",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert_eq!(
        screen.matches("table/log").count(),
        1,
        "one footer, not two:\n{screen}"
    );
    assert!(
        screen.contains("? help") && screen.contains("r plan again"),
        "{screen}"
    );
}

#[test]
fn progress_attached_notice_is_cleared_when_the_run_ends() {
    use crate::store::runs::RunState;
    let mut m = filled();
    m.update(Input::Msg(Msg::RunAttached("run-9".into())));
    poll_run(&mut m, RunState::Apply);
    assert!(
        m.status
            .as_ref()
            .unwrap()
            .text
            .contains("still in progress"),
        "true while the run is live"
    );
    poll_run(&mut m, RunState::Failed);
    assert_eq!(m.status, None);
}

#[test]
fn progress_r_after_a_failed_run_returns_to_review_and_asks_to_plan_again() {
    let mut m = failed_run_model();
    m.update(key(KeyCode::Char('r')));
    assert_eq!(m.mode, Mode::Wizard);
    assert_eq!(m.form.step, Step::Review);
    assert_eq!(
        m.dialogs.last().map(|d| d.intent.clone()),
        Some(Intent::StartRun)
    );
}

#[test]
fn progress_q_after_the_run_ended_quits_without_claiming_it_continues() {
    let mut m = failed_run_model();
    m.update(key(KeyCode::Char('q')));
    assert!(m.finished, "nothing runs on, so nothing to ask");
    assert!(m.dialogs.is_empty());
}

#[test]
fn progress_failed_start_is_reported() {
    let mut m = filled();
    m.update(Input::Msg(Msg::RunStarted(Err("tofu not found".into()))));
    assert!(m.status.as_ref().unwrap().text.contains("tofu not found"));
    assert_eq!(m.mode, Mode::Wizard);
}

#[test]
fn review_export_writes_no_secret() {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('e')));
    let effects = m.update(key(KeyCode::Enter));
    let contents = effects
        .iter()
        .find_map(|e| match e {
            Effect::Export { contents, .. } => Some(contents.clone()),
            _ => None,
        })
        .expect("export effect");
    let config = crate::domain::platform::PlatformConfig::parse(&contents).unwrap();
    assert_eq!(config.cluster_names(), vec!["hz-fsn-rtz-prod".to_string()]);
    assert!(
        contents.contains("hcloud_token = \"keyring:openova/draft-1/provider_token\""),
        "{contents}"
    );
    assert!(!contents.contains("PLANTED"));
    let back = super::export::form_from_toml(&contents).unwrap();
    assert_eq!(back.org_slug, "acme");
    assert_eq!(back.regions, m.form.regions);
}

#[test]
fn wizard_q_quits_outside_text_and_asks_while_checking() {
    let mut m = filled();
    m.form.step = Step::Provider;
    m.check = CheckState::Checking;
    m.update(key(KeyCode::Char('q')));
    assert!(!m.finished);
    assert_eq!(
        m.dialogs.last().map(|d| d.intent.clone()),
        Some(Intent::Quit)
    );
    m.update(key(KeyCode::Char('y')));
    assert!(m.finished);
}

#[test]
fn help_overlay_names_its_closing_keys_and_other_keys_do_not_pass_through() {
    let mut m = fresh();
    m.update(key(KeyCode::F(1)));
    assert!(m.show_help);
    let screen = draw(&m, 80, 24);
    assert!(
        screen.contains("Esc, Enter, ?, q or F1 closes this help"),
        "{screen}"
    );
    m.update(key(KeyCode::Char('x')));
    assert!(m.show_help, "x does not close help");
    assert_eq!(m.form.org_name, "", "nor is it typed into the field below");
    m.update(key(KeyCode::Esc));
    assert!(!m.show_help);
    m.update(key(KeyCode::F(1)));
    m.update(key(KeyCode::Char('q')));
    assert!(
        !m.show_help && !m.finished,
        "q closes help, it does not quit"
    );
}

#[test]
fn wizard_draft_round_trip_restores_form() {
    let m = filled();
    let data = serde_json::to_string(&m.form).unwrap();
    let back: Form = serde_json::from_str(&data).unwrap();
    assert_eq!(back, m.form);
}

// ---------------------------------------------------------------- Snapshots

pub(super) fn draw(m: &Model, w: u16, h: u16) -> String {
    let app = super::Wizard {
        model: m.clone(),
        theme: Theme::mono(),
    };
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render_guarded(&app, f)).unwrap();
    format!("{}", t.backend())
}

pub(super) fn snap(name: &str, m: &Model) {
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(m, w, h));
    }
}

#[test]
fn snapshots_every_screen() {
    let mut m = filled();
    for step in Step::ALL {
        m.form.step = step;
        m.focus = 0;
        snap(&format!("{}__filled", step.title().to_lowercase()), &m);
    }
    let mut e = fresh();
    snap("organization__empty", &e);
    e.form.step = Step::Credentials;
    snap("credentials__empty", &e);
    let mut two = filled();
    two.form
        .regions
        .push(RegionForm::default_for(Provider::Hetzner, 1));
    two.form.step = Step::Regions;
    snap("regions__two", &two);
    let mut d = on_components();
    cursor_to(&mut d, "debezium");
    d.update(key(KeyCode::Char(' ')));
    snap("components__dependency_dialog", &d);
    let mut r = filled();
    r.form.email = "bad".into();
    r.form.step = Step::Review;
    snap("review__errors", &r);
    let mut h = filled();
    h.show_help = true;
    snap("organization__help", &h);
    let mut res = fresh();
    res.mode = Mode::Resume {
        drafts: vec![DraftChoice {
            id: 3,
            title: "Acme Financial".into(),
            progress: 4,
            age: "5 min ago".into(),
        }],
        cursor: 0,
    };
    snap("resume__one_draft", &res);
}

#[test]
fn snapshot_below_minimum_size_explains() {
    let out = draw(&filled(), 60, 20);
    assert!(out.contains("needs at least 80x24"), "{out}");
}

#[test]
fn export_memory_only_secrets_are_referenced_by_environment() {
    let mut m = filled();
    m.form.secret_storage = SecretStorage::Memory;
    let text = super::export::platform_toml(&m).unwrap();
    assert!(
        text.contains("hcloud_token = \"env:HCLOUD_TOKEN\""),
        "{text}"
    );
}

#[test]
fn config_prefill_bad_value_names_line_and_field() {
    let text =
        "apiVersion = \"openova.io/v1alpha1\"\nkind = \"PlatformConfig\"\nprovider = \"zz\"\n";
    let err = super::export::form_from_toml(text).unwrap_err();
    assert!(err.contains("provider") && err.contains('3'), "{err}");
}

#[test]
fn config_prefill_round_trips_exported_file() {
    let m = filled();
    let text = super::export::platform_toml(&m).unwrap();
    let form = super::export::form_from_toml(&text).unwrap();
    assert_eq!(form.org_slug, "acme");
    assert_eq!(form.regions, m.form.regions);
    assert_eq!(form.ssh_public_key, PUBKEY);
}

// ---------------------------------------------------------------- Live check against a stand-in

/// A one-shot HTTP server on loopback answering with `status` (or never, when `None`).
fn stand_in(status: Option<u16>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            match status {
                Some(code) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                    );
                }
                None => std::thread::sleep(std::time::Duration::from_secs(5)),
            }
        }
    });
    format!("http://{addr}/v1")
}

fn check(base: &str) -> Result<String, CheckFailure> {
    let token = secrecy::SecretString::from(TOKEN.to_string());
    super::check_hetzner(base, &token, std::time::Duration::from_millis(500))
}

#[test]
fn live_check_200_is_valid() {
    assert!(check(&stand_in(Some(200))).is_ok());
}

#[test]
fn live_check_401_is_rejected_and_explained() {
    let err = check(&stand_in(Some(401))).unwrap_err();
    assert_eq!(err, CheckFailure::Rejected { status: 401 });
    assert!(err.explain().contains("Read & Write"));
}

#[test]
fn live_check_closed_port_is_unreachable_without_token_in_message() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = check(&format!("http://127.0.0.1:{port}/v1")).unwrap_err();
    assert!(matches!(err, CheckFailure::Unreachable(_)), "{err:?}");
    assert!(!err.explain().contains("PLANTED"));
}

#[test]
fn live_check_silent_server_times_out() {
    let err = check(&stand_in(None)).unwrap_err();
    assert_eq!(err, CheckFailure::Timeout);
}

#[test]
fn live_check_server_error_is_unexpected() {
    assert_eq!(
        check(&stand_in(Some(503))).unwrap_err(),
        CheckFailure::Unexpected { status: 503 }
    );
}

#[test]
fn progress_run_attached_at_start_shows_run_and_esc_leaves_it_running() {
    let mut m = filled();
    let effects = m.update(Input::Msg(Msg::RunAttached("run-7".into())));
    assert!(matches!(&effects[..], [Effect::PollRun { id, after: 0 }] if id == "run-7"));
    assert!(matches!(m.mode, Mode::Progress(_)));
    assert!(
        m.status
            .as_ref()
            .unwrap()
            .text
            .contains("Attached to run run-7")
    );
    let effects = m.update(key(KeyCode::Esc));
    assert!(effects.is_empty(), "leaving must not cancel the run");
    assert_eq!(m.mode, Mode::Wizard);
    assert!(
        m.status
            .as_ref()
            .unwrap()
            .text
            .contains("continues in the background")
    );
}

/// A plan run that finished with one cluster's plan recorded, as the poll returns it.
fn finished_plan(id: &str, config_toml: &str) -> Msg {
    use crate::provision::plan::{ClusterPlan, Counts};
    use crate::store::runs::{EventRecord, RunAction, RunRecord, RunState};
    let plan = ClusterPlan {
        cluster: "hz-fsn-rtz-prod".into(),
        totals: Counts {
            add: 4,
            change: 0,
            destroy: 0,
        },
        by_type: [(
            "hcloud_server".to_string(),
            Counts {
                add: 4,
                change: 0,
                destroy: 0,
            },
        )]
        .into(),
        costs: vec![("server cx43".into(), 4, 47.96)],
        monthly_eur: 47.96,
        unpriced: Vec::new(),
        deletions: Vec::new(),
    };
    let event = |seq: i64, kind: &str, raw: String| EventRecord {
        seq,
        at_ms: seq * 1000,
        phase: "plan".into(),
        kind: kind.into(),
        level: "info".into(),
        message: kind.into(),
        raw,
    };
    Msg::RunPolled {
        now_ms: 10_000,
        run: Some(Box::new(RunRecord {
            id: id.into(),
            action: RunAction::Plan,
            state: RunState::Succeeded,
            platform: "acme-corp".into(),
            config_toml: config_toml.into(),
            config_path: None,
            workspace: "/nonexistent".into(),
            options_json: "{}".into(),
            supervisor_pid: None,
            heartbeat_ms: None,
            created_ms: 0,
            finished_ms: Some(9_000),
            error: None,
            next_step: None,
        })),
        events: vec![
            event(
                1,
                crate::provision::supervisor::PLAN_SUMMARY_KIND,
                serde_json::to_string(&plan).expect("plan json"),
            ),
            event(2, "state", r#"{"state":"succeeded"}"#.into()),
        ],
    }
}

// ---------------------------------------------------------------- Who may reach the cluster

fn on_regions_access() -> Model {
    let mut m = filled();
    m.form.api_allowed_cidrs.clear();
    m.inputs = Inputs::from_form(&m.form);
    m.form.step = Step::Regions;
    focus_on(&mut m, FieldId::ApiCidrs);
    m
}

#[test]
fn regions_api_cidrs_empty_is_a_problem_not_a_world_open_default() {
    let m = on_regions_access();
    let errs = m.errors_for(Step::Regions);
    let e = errs
        .iter()
        .find(|e| e.field == "api.allowed_cidrs")
        .expect("an empty API list is a problem");
    assert!(e.message.contains("198.51.100.7/32"), "{e}");
    assert!(super::export::to_config(&m).api.is_none());
    assert!(m.warnings().is_empty());
}

#[test]
fn regions_api_and_ssh_cidrs_are_typed_validated_and_saved() {
    let mut m = on_regions_access();
    let effects = typed(&mut m, "198.51.100.7/32, 203.0.113.0/24");
    assert_eq!(m.form.api_allowed_cidrs, "198.51.100.7/32, 203.0.113.0/24");
    assert!(saved_data(&effects).unwrap().contains("203.0.113.0/24"));
    assert!(m.errors_for(Step::Regions).is_empty());
    m.update(key(KeyCode::Tab));
    assert_eq!(focused(&m), Some(FieldId::SshCidrs));
    typed(&mut m, "10.1.2.3/8");
    let errs = m.errors_for(Step::Regions);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "ssh.allowed_cidrs[0]");
    assert!(
        errs[0].message.contains("did you mean 10.0.0.0/8"),
        "{}",
        errs[0]
    );
    // Review's Enter on the problem comes back to the field.
    m.form.step = Step::Review;
    m.review_cursor = 0;
    m.update(key(KeyCode::Enter));
    assert_eq!(
        (m.form.step, focused(&m)),
        (Step::Regions, Some(FieldId::SshCidrs))
    );
}

#[test]
fn regions_second_bad_api_cidr_is_named_by_its_index() {
    let mut m = on_regions_access();
    typed(&mut m, "198.51.100.7/32,::/0");
    let errs = m.errors_for(Step::Regions);
    assert_eq!(errs[0].field, "api.allowed_cidrs[1]", "{errs:?}");
    assert_eq!(
        FieldId::for_error(&errs[0].field),
        Some((Step::Regions, FieldId::ApiCidrs))
    );
}

#[test]
fn review_warns_when_the_api_or_ssh_is_open_to_the_world_and_the_start_repeats_it() {
    let mut m = filled();
    m.form.api_allowed_cidrs = "0.0.0.0/0".into();
    m.form.ssh_allowed_cidrs = "0.0.0.0/0".into();
    let w = m.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("Kubernetes API is open to the world"));
    assert!(w[1].contains("ssh (port 22) is open to the world"));
    // A warning, not a problem: the start is allowed, and its question repeats it.
    assert!(m.all_errors().is_empty(), "{:?}", m.all_errors());
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('s')));
    let body = &m.dialogs.last().expect("start question").body;
    assert!(
        body.iter()
            .any(|l| l.starts_with("WARNING: The Kubernetes API is open"))
    );
    let mut ipv6 = filled();
    ipv6.form.api_allowed_cidrs = "::/0".into();
    assert_eq!(ipv6.warnings().len(), 1);
}

#[test]
fn export_writes_the_access_lists_and_reads_them_back() {
    let mut m = filled();
    m.form.api_allowed_cidrs = "198.51.100.7/32, 203.0.113.0/24".into();
    m.form.ssh_allowed_cidrs = "198.51.100.7/32".into();
    let text = super::export::platform_toml(&m).unwrap();
    let config = crate::domain::platform::PlatformConfig::parse(&text).unwrap();
    assert_eq!(
        config.api.expect("[api] written").allowed_cidrs,
        ["198.51.100.7/32", "203.0.113.0/24"]
    );
    assert_eq!(config.ssh.allowed_cidrs, ["198.51.100.7/32"]);
    // The run's variables take them from the configuration.
    let config = crate::domain::platform::PlatformConfig::parse(&text).unwrap();
    let run = crate::provision::tfvars::RunValues::from_platform(&config);
    assert_eq!(run.api_allowed_cidrs, ["198.51.100.7/32", "203.0.113.0/24"]);
    assert_eq!(run.ssh_allowed_cidrs, ["198.51.100.7/32"]);
    let form = super::export::form_from_toml(&text).unwrap();
    assert_eq!(form.api_allowed_cidrs, "198.51.100.7/32, 203.0.113.0/24");
    assert_eq!(form.ssh_allowed_cidrs, "198.51.100.7/32");
}

// ---------------------------------------------------------------- OpenTofu found first

#[test]
fn review_start_is_refused_while_opentofu_is_missing_and_says_what_to_do() {
    let mut m = filled();
    m.tofu = TofuCheck::Problem(
        "--tofu /opt/tools/tofu: no executable file there. To run: quit and start `openova tui bootstrap --tofu PATH` with OpenTofu 1.10.0 or newer".into(),
    );
    m.form.step = Step::Review;
    let errs = m.all_errors();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        (errs[0].0, errs[0].1.field.as_str()),
        (Step::Review, "tofu")
    );
    let effects = m.update(key(KeyCode::Char('s')));
    assert!(effects.is_empty() && m.dialogs.is_empty());
    assert!(m.status.as_ref().unwrap().text.contains("1 problem"));
    // Enter on it has no field to go to: it repeats what to do.
    m.update(key(KeyCode::Enter));
    assert_eq!(m.form.step, Step::Review);
    assert!(m.status.as_ref().unwrap().text.contains("--tofu PATH"));
    // Export needs no OpenTofu.
    assert!(super::export::platform_toml(&m).is_ok());
    m.tofu = TofuCheck::Checking;
    assert!(m.all_errors()[0].1.message.contains("being looked for"));
}

#[test]
fn review_looks_for_opentofu_each_time_it_opens_with_the_tofu_argument() {
    let mut m = filled();
    m.tofu_arg = Some("/srv/bin/tofu".into());
    m.form.step = Step::Components;
    let effects = m.update(key(KeyCode::Enter));
    assert_eq!(m.form.step, Step::Review);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::LocateTofu(Some(p)) if p.as_path() == std::path::Path::new("/srv/bin/tofu")
    )));
    m.update(Input::Msg(Msg::TofuLocated(TofuCheck::Problem(
        "gone".into(),
    ))));
    assert_eq!(m.tofu, TofuCheck::Problem("gone".into()));
}

#[test]
fn review_start_records_the_opentofu_it_found_and_names_it() {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('s')));
    let body = &m.dialogs.last().expect("start question").body;
    assert!(
        body.iter()
            .any(|l| l == "OpenTofu 1.10.2: /opt/tofu/bin/tofu."),
        "{body:?}"
    );
    let effects = m.update(key(KeyCode::Char('y')));
    let tofu = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRun { tofu, .. } => Some(tofu.clone()),
            _ => None,
        })
        .expect("start effect");
    assert_eq!(tofu, std::path::PathBuf::from("/opt/tofu/bin/tofu"));
}

#[test]
fn opening_a_draft_keeps_the_tofu_argument_its_result_and_offline() {
    let mut m = fresh();
    m.tofu_arg = Some("/srv/bin/tofu".into());
    m.tofu = TofuCheck::Problem("old".into());
    m.offline = true;
    m.update(Input::Msg(Msg::DraftOpened {
        id: 2,
        form: Box::new(Form::default()),
        secrets: Vec::new(),
    }));
    assert_eq!(m.tofu_arg, Some("/srv/bin/tofu".into()));
    assert_eq!(m.tofu, TofuCheck::Problem("old".into()));
    assert!(m.offline);
}

/// A stand-in `tofu` answering `version -json` with `version`.
fn script_tofu(dir: &std::path::Path, version: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("tofu");
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho '{{\"terraform_version\":\"{version}\"}}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn locate_tofu_reports_found_missing_and_too_old_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let good = script_tofu(dir.path(), "1.10.3");
    assert_eq!(
        super::locate_tofu(Some(good.clone())),
        TofuCheck::Found {
            path: good,
            version: "1.10.3".into()
        }
    );
    let missing = dir.path().join("nope");
    let TofuCheck::Problem(why) = super::locate_tofu(Some(missing.clone())) else {
        panic!("a missing --tofu is a problem");
    };
    assert!(why.contains(&missing.display().to_string()), "{why}");
    assert!(
        why.contains("--tofu PATH") && why.contains("1.10.0"),
        "{why}"
    );
    let old_dir = tempfile::tempdir().unwrap();
    let old = script_tofu(old_dir.path(), "1.9.1");
    let TofuCheck::Problem(why) = super::locate_tofu(Some(old)) else {
        panic!("OpenTofu 1.9 is a problem");
    };
    assert!(
        why.contains("1.9.1") && why.contains("--tofu PATH"),
        "{why}"
    );
}

// ---------------------------------------------------------------- Offline

#[test]
fn offline_skips_the_live_check_and_review_says_not_checked() {
    let mut m = filled();
    m.check = CheckState::NotChecked;
    assert!(!m.errors_for(Step::Credentials).is_empty());
    m.form.step = Step::Credentials;
    focus_on(&mut m, FieldId::LiveCheck);
    m.update(key(KeyCode::Right));
    assert!(m.offline);
    assert!(m.errors_for(Step::Credentials).is_empty());
    focus_on(&mut m, FieldId::Token);
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. })),
        "offline sends nothing"
    );
    // An empty token is still a problem offline.
    m.token.field.set("");
    assert_eq!(m.errors_for(Step::Credentials).len(), 1);
    m.token.field.set(TOKEN);
    m.form.step = Step::Review;
    let text: String = super::screens::review::lines(&m, &Theme::mono())
        .iter()
        .map(|l| l.to_string() + "\n")
        .collect();
    assert!(text.contains("not checked (offline"), "{text}");
    m.update(key(KeyCode::Char('s')));
    let body = &m.dialogs.last().expect("start allowed offline").body;
    assert!(
        body.iter()
            .any(|l| l.starts_with("Credentials: not checked (offline)")),
        "{body:?}"
    );
}

#[test]
fn offline_o_on_review_toggles_and_turning_it_off_checks_at_once() {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('o')));
    assert!(m.offline && m.check == CheckState::NotChecked);
    let effects = m.update(key(KeyCode::Char('o')));
    assert!(!m.offline);
    assert_eq!(m.check, CheckState::Checking);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. }))
    );
}

#[test]
fn unreachable_and_timeout_name_every_way_out() {
    for f in [
        CheckFailure::Unreachable("dns error".into()),
        CheckFailure::Timeout,
    ] {
        let text = f.explain();
        for needle in [
            "--offline",
            "o on Review",
            "HTTPS_PROXY",
            "NO_PROXY",
            "OPENOVA_HETZNER_API_URL",
            "--hetzner-api-url",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }
}

#[test]
fn plan_review_approve_asks_with_the_plan_then_applies_exactly_that_plan() {
    let mut m = filled();
    // Allowed, but warned about in the plan review and in the question before applying.
    m.form.api_allowed_cidrs = "0.0.0.0/0".into();
    m.form.step = Step::Review;
    m.update(key(KeyCode::Char('s')));
    let d = m.dialogs.last().expect("the plan question");
    assert!(
        d.body.iter().any(|l| l.contains("Nothing is created yet")),
        "{:?}",
        d.body
    );
    let effects = m.update(key(KeyCode::Char('y')));
    assert!(
        matches!(&effects[..], [Effect::StartRun { .. }]),
        "{effects:?}"
    );
    m.update(Input::Msg(Msg::RunStarted(Ok("plan-1".into()))));
    let toml = super::export::to_config(&m).to_toml().expect("toml");
    m.update(Input::Msg(finished_plan("plan-1", &toml)));
    let s = draw(&m, 80, 24);
    assert!(s.contains("Plan review"), "{s}");
    assert!(s.contains("4 to add"), "{s}");
    assert!(s.contains("a approve and apply"), "{s}");
    // Approving asks once more, with the whole effect: counts, cost, warnings.
    let effects = m.update(key(KeyCode::Char('a')));
    assert!(
        effects.is_empty(),
        "nothing applied before the answer: {effects:?}"
    );
    let d = m.dialogs.last().expect("the apply question");
    let body = d.body.join("\n");
    assert!(body.contains("hz-fsn-rtz-prod: 4 to add"), "{body}");
    assert!(body.contains("€47.96"), "{body}");
    assert!(
        body.contains("WARNING"),
        "the open API is warned about:\n{body}"
    );
    // Ctrl+Y is not yes; n writes nothing and keeps the review.
    let effects = m.update(Input::Key(KeyEvent::new(
        KeyCode::Char('y'),
        KeyModifiers::CONTROL,
    )));
    assert!(effects.is_empty());
    let effects = m.update(key(KeyCode::Char('n')));
    assert!(effects.is_empty());
    assert!(draw(&m, 80, 24).contains("Plan review"));
    m.update(key(KeyCode::Char('a')));
    let effects = m.update(key(KeyCode::Char('y')));
    assert!(
        matches!(&effects[..], [Effect::ApplyPlan { plan, .. }] if plan == "plan-1"),
        "{effects:?}"
    );
}

#[test]
fn plan_review_reject_discards_the_plan_and_esc_keeps_it() {
    let mut m = filled();
    m.form.step = Step::Review;
    m.update(Input::Msg(Msg::RunStarted(Ok("plan-2".into()))));
    m.update(Input::Msg(finished_plan("plan-2", "")));
    let effects = m.update(key(KeyCode::Char('x')));
    assert!(
        matches!(&effects[..], [Effect::DiscardPlan(id)] if id == "plan-2"),
        "{effects:?}"
    );
    assert_eq!(m.mode, Mode::Wizard);
    assert!(m.status.as_ref().unwrap().text.contains("rejected"));

    m.update(Input::Msg(Msg::RunStarted(Ok("plan-3".into()))));
    m.update(Input::Msg(finished_plan("plan-3", "")));
    let effects = m.update(key(KeyCode::Esc));
    assert!(
        effects.is_empty(),
        "Esc applies and discards nothing: {effects:?}"
    );
    assert_eq!(m.mode, Mode::Wizard);
    let notice = &m.status.as_ref().unwrap().text;
    assert!(
        notice.contains("kept, not applied") && notice.contains("--plan plan-3"),
        "{notice}"
    );
}

#[test]
fn snapshots_access_offline_and_opentofu() {
    let mut r = filled();
    r.form.step = Step::Regions;
    r.form.api_allowed_cidrs = "0.0.0.0/0".into();
    r.inputs = Inputs::from_form(&r.form);
    focus_on(&mut r, FieldId::ApiCidrs);
    snap("regions__access_world_open", &r);
    let mut e = filled();
    e.form.api_allowed_cidrs.clear();
    e.inputs = Inputs::from_form(&e.form);
    e.form.step = Step::Regions;
    focus_on(&mut e, FieldId::SshCidrs);
    snap("regions__access_empty", &e);
    let mut o = filled();
    o.offline = true;
    o.check = CheckState::NotChecked;
    o.form.api_allowed_cidrs = "0.0.0.0/0".into();
    o.form.step = Step::Review;
    snap("review__offline_world_open", &o);
    o.update(key(KeyCode::Char('s')));
    snap("review__offline_start_question", &o);
    let mut t = filled();
    t.tofu = super::locate_tofu(Some("/nonexistent/tofu".into()));
    t.form.step = Step::Review;
    snap("review__tofu_missing", &t);
    let mut c = filled();
    c.offline = true;
    c.form.step = Step::Credentials;
    focus_on(&mut c, FieldId::LiveCheck);
    snap("credentials__offline", &c);
}

// ---------------------------------------------------------------- Huawei Cloud credentials

const HW_AK: &str = "HPUAPLANTEDACCESSKEY7Q";
const HW_SK: &str = "PLANTEDsecretPLANTEDsecretPLANTEDsecret01";

/// Credentials with Huawei Cloud chosen on its first field.
fn on_huawei_credentials() -> Model {
    let mut m = on_credentials();
    m.huawei_iam_url = Some("http://127.0.0.1:9/iam".into());
    assert_eq!(
        focused(&m),
        Some(FieldId::Provider),
        "the provider is asked first"
    );
    m.update(key(KeyCode::Right));
    assert_eq!(m.form.provider, Provider::HuaweiCloud);
    m
}

#[test]
fn credentials_huawei_asks_access_key_and_secret_key_and_checks_both() {
    let mut m = on_huawei_credentials();
    assert_eq!(
        fields(&m, Step::Credentials)[..4],
        [
            FieldId::Provider,
            FieldId::Token,
            FieldId::SecretKey,
            FieldId::LiveCheck
        ]
    );
    let errs: Vec<String> = m
        .errors_for(Step::Credentials)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert!(
        errs.contains(&"credentials.access_key".to_string()),
        "{errs:?}"
    );
    assert!(
        errs.contains(&"credentials.secret_key".to_string()),
        "{errs:?}"
    );
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, HW_AK);
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. })),
        "nothing is sent without the secret key"
    );
    assert_eq!(focused(&m), Some(FieldId::SecretKey));
    let stored = typed(&mut m, HW_SK);
    assert!(stored.iter().any(|e| matches!(
        e,
        Effect::StoreSecret { name: SecretName::ProviderSecretKey, value, .. }
            if value.expose_secret() == HW_SK
    )));
    let effects = m.update(key(KeyCode::Enter));
    let (token, secret_key, region, base_url) = effects
        .iter()
        .find_map(|e| match e {
            Effect::CheckToken {
                provider: Provider::HuaweiCloud,
                token,
                secret_key,
                region,
                base_url,
                ..
            } => Some((token, secret_key, region.clone(), base_url.clone())),
            _ => None,
        })
        .expect("the check of both keys");
    assert_eq!(token.expose_secret(), HW_AK);
    assert_eq!(secret_key.expose_secret(), HW_SK);
    assert_eq!(region, m.form.regions[0].location.api_region());
    assert_eq!(base_url.as_deref(), Some("http://127.0.0.1:9/iam"));
    assert_eq!(m.check, CheckState::Checking);
    // Neither key is in what is saved to disk.
    let draft = serde_json::to_string(&m.form).unwrap();
    assert!(!draft.contains("PLANTED"), "{draft}");
}

#[test]
fn export_huawei_files_each_key_under_its_own_reference() {
    let mut m = filled();
    m.form.provider = Provider::HuaweiCloud;
    m.form.regions = vec![RegionForm::default_for(Provider::HuaweiCloud, 0)];
    m.token.field.set(HW_AK);
    m.secret_key.field.set(HW_SK);
    m.form.secret_storage = SecretStorage::Keyring;
    m.keyring_prefix = "db-4f2a".into();
    let text = super::export::platform_toml(&m).unwrap();
    assert!(!text.contains("PLANTED") && !text.contains(HW_AK), "{text}");
    assert!(
        text.contains("access_key = \"keyring:openova/db-4f2a/draft-1/provider_token\""),
        "{text}"
    );
    assert!(
        text.contains("secret_key = \"keyring:openova/db-4f2a/draft-1/provider_secret_key\""),
        "{text}"
    );
    m.form.secret_storage = SecretStorage::Memory;
    let text = super::export::platform_toml(&m).unwrap();
    assert!(
        text.contains("access_key = \"env:HW_ACCESS_KEY\""),
        "{text}"
    );
    assert!(
        text.contains("secret_key = \"env:HW_SECRET_KEY\""),
        "{text}"
    );
}

/// A Huawei IAM stand-in on loopback: 200 with one project when the request is signed with
/// `SDK-HMAC-SHA256 Access=<HW_AK>`, 401 otherwise; every request head is sent to `seen`.
fn huawei_stand_in(seen: std::sync::mpsc::Sender<String>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                head.push_str(&line);
                line.clear();
            }
            let signed = head.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("authorization:")
                    && l.contains(&format!("SDK-HMAC-SHA256 Access={HW_AK}"))
            });
            let _ = seen.send(head);
            let (status, body) = if signed {
                (
                    "200 OK",
                    r#"{"projects":[{"id":"0123456789abcdef0123456789abcdef","name":"ap-southeast-1"}]}"#,
                )
            } else {
                ("401 Unauthorized", r#"{"error":{"code":"APIGW.0301"}}"#)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn live_check_huawei_signs_with_the_access_key_and_never_sends_the_secret() {
    let (tx, rx) = std::sync::mpsc::channel();
    let base = huawei_stand_in(tx);
    let check = |ak: &str| {
        super::check_huawei(
            secrecy::SecretString::from(ak.to_owned()),
            secrecy::SecretString::from(HW_SK.to_owned()),
            "ap-southeast-1".into(),
            Some(base.clone()),
            std::time::Duration::from_secs(5),
        )
    };
    let ok = check(HW_AK).expect("accepted");
    assert!(ok.contains("0123456789abcdef0123456789abcdef"), "{ok}");
    let head = rx.recv().unwrap();
    assert!(!head.contains(HW_SK), "the secret key travelled: {head}");
    let Err(CheckFailure::Report(why)) = check("HPUAOTHERACCESSKEY000") else {
        panic!("another key is rejected");
    };
    assert!(why.contains("401") && why.contains("access key"), "{why}");
    assert!(!why.contains(HW_SK), "{why}");
}

#[test]
fn snapshots_huawei_credentials() {
    let mut m = on_huawei_credentials();
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, HW_AK);
    m.update(key(KeyCode::Enter));
    typed(&mut m, HW_SK);
    m.check = CheckState::Valid(
        "access key accepted by Huawei Cloud IAM; project 0123456789abcdef0123456789abcdef serves ap-southeast-1".into(),
    );
    snap("credentials__huawei", &m);
}

#[test]
fn live_check_goes_to_the_endpoint_given_on_the_command_line_and_survives_opening_a_draft() {
    let mut m = fresh();
    m.hetzner_api_url = Some("http://127.0.0.1:9/v1".into());
    m.huawei_iam_url = Some("http://127.0.0.1:9/iam".into());
    m.update(Input::Msg(Msg::DraftOpened {
        id: 2,
        form: Box::new(Form::default()),
        secrets: vec![(
            SecretName::ProviderToken,
            secrecy::SecretString::from(TOKEN.to_owned()),
        )],
    }));
    assert_eq!(m.huawei_iam_url.as_deref(), Some("http://127.0.0.1:9/iam"));
    m.form.step = Step::Credentials;
    focus_on(&mut m, FieldId::Token);
    let effects = m.update(key(KeyCode::Enter));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::CheckToken { provider: Provider::Hetzner, base_url: Some(u), .. }
            if u == "http://127.0.0.1:9/v1"
    )));
}

// ---------------------------------------------------------------- OCI credentials

const OCI_TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
const OCI_USER: &str =
    "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
const OCI_FINGERPRINT: &str = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
const OCI_COMPARTMENT: &str =
    "ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa";
/// A 2048-bit test key (the fixture the headless check's tests verify with).
const OCI_KEY: &str = include_str!("../../../tests/fixtures/oci-test-api-key.pem");

/// A line of the key's base64 body: if it shows up somewhere, the key leaked.
fn oci_key_marker() -> &'static str {
    OCI_KEY.lines().nth(5).unwrap()
}

/// Credentials with OCI chosen on its first field.
fn on_oci_credentials() -> Model {
    let mut m = on_credentials();
    m.oci_identity_url = Some("http://127.0.0.1:9/identity".into());
    m.update(key(KeyCode::Left));
    assert_eq!(m.form.provider, Provider::Oci);
    m
}

/// OCI's credentials typed and pasted as an operator would.
fn oci_entered(m: &mut Model) -> Vec<Effect> {
    let mut effects = Vec::new();
    focus_on(m, FieldId::Token);
    effects.extend(typed(m, OCI_TENANCY));
    focus_on(m, FieldId::OciUser);
    effects.extend(typed(m, OCI_USER));
    focus_on(m, FieldId::OciFingerprint);
    effects.extend(typed(m, OCI_FINGERPRINT));
    focus_on(m, FieldId::OciKey);
    effects.extend(m.update(Input::Paste(OCI_KEY.into())));
    effects
}

fn errors_of(m: &Model) -> Vec<(String, String)> {
    m.errors_for(Step::Credentials)
        .into_iter()
        .map(|e| (e.field.clone(), e.to_string()))
        .collect()
}

#[test]
fn credentials_oci_asks_each_credential_with_its_own_label_and_help() {
    let mut m = on_oci_credentials();
    assert_eq!(
        fields(&m, Step::Credentials)[..8],
        [
            FieldId::Provider,
            FieldId::Token,
            FieldId::OciUser,
            FieldId::OciFingerprint,
            FieldId::OciKey,
            FieldId::OciRegion,
            FieldId::OciCompartment,
            FieldId::LiveCheck,
        ]
    );
    let fields_in_error: Vec<String> = errors_of(&m).into_iter().map(|(f, _)| f).collect();
    for f in [
        "credentials.tenancy_ocid",
        "credentials.user_ocid",
        "credentials.fingerprint",
        "credentials.private_key",
    ] {
        assert!(
            fields_in_error.contains(&f.to_string()),
            "{f}: {fields_in_error:?}"
        );
    }
    focus_on(&mut m, FieldId::Token);
    let screen = draw(&m, 120, 40);
    assert!(
        screen.contains("Tenancy OCID") && !screen.contains("API token"),
        "{screen}"
    );
    assert!(screen.contains("Profile → Tenancy → OCID"), "{screen}");
    assert!(screen.contains("API private key") && screen.contains("Key fingerprint"));
}

#[test]
fn credentials_oci_malformed_values_are_named_and_nothing_is_sent() {
    let mut m = on_oci_credentials();
    focus_on(&mut m, FieldId::Token);
    typed(&mut m, OCI_USER); // the user's OCID in the tenancy's field
    focus_on(&mut m, FieldId::OciUser);
    typed(&mut m, OCI_USER);
    focus_on(&mut m, FieldId::OciFingerprint);
    typed(&mut m, "20:3B:97");
    focus_on(&mut m, FieldId::OciKey);
    m.update(Input::Paste(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".into(),
    ));
    focus_on(&mut m, FieldId::OciCompartment);
    typed(&mut m, "ocid1.vcn.oc1..aaaa");
    let errs = errors_of(&m);
    let msg = |field: &str| {
        errs.iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{field} in {errs:?}"))
    };
    assert!(msg("credentials.tenancy_ocid").contains("ocid1.tenancy.oc1..<id>"));
    assert!(msg("credentials.fingerprint").contains("16 lower-case hex pairs"));
    assert!(msg("credentials.private_key").contains("not the public key"));
    assert!(msg("oci.compartment_ocid").contains("root compartment"));
    assert!(
        !errs.iter().any(|(f, _)| f == "credentials.user_ocid"),
        "{errs:?}"
    );
    focus_on(&mut m, FieldId::OciKey);
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. })),
        "nothing is sent while a value is malformed"
    );
    assert_eq!(m.check, CheckState::NotChecked);
}

#[test]
fn credentials_oci_pasted_key_is_kept_as_pem_and_checked_with_every_value() {
    let mut m = on_oci_credentials();
    let effects = oci_entered(&mut m);
    // The pasted key lost its line breaks in the field; what is stored is a PEM again.
    let stored = effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::StoreSecret {
                name: SecretName::OciPrivateKey,
                value,
                ..
            } => Some(value.expose_secret().to_owned()),
            _ => None,
        })
        .expect("the key goes to the secret store");
    assert_eq!(stored.trim_end(), OCI_KEY.trim_end());
    for (name, want) in [
        (SecretName::ProviderToken, OCI_TENANCY),
        (SecretName::OciUser, OCI_USER),
        (SecretName::OciFingerprint, OCI_FINGERPRINT),
    ] {
        assert!(
            effects.iter().any(|e| matches!(e,
                Effect::StoreSecret { name: n, value, .. } if *n == name && value.expose_secret() == want)),
            "{name:?} is its own entry"
        );
    }
    // Only the verdict is missing ("not checked yet"), filed under the first credential.
    let errs = errors_of(&m);
    assert!(
        errs.iter()
            .filter(|(f, _)| f.starts_with("credentials.") || f.starts_with("oci."))
            .all(|(f, e)| f == "credentials.tenancy_ocid" && e.contains("not checked yet")),
        "{errs:?}"
    );
    let effects = m.update(key(KeyCode::Enter));
    let (tenancy, region, base_url, oci) = effects
        .iter()
        .find_map(|e| match e {
            Effect::CheckToken {
                provider: Provider::Oci,
                token,
                region,
                base_url,
                oci: Some(oci),
                ..
            } => Some((token, region.clone(), base_url.clone(), oci.clone())),
            _ => None,
        })
        .expect("the check of the OCI credentials");
    assert_eq!(tenancy.expose_secret(), OCI_TENANCY);
    assert_eq!(oci.user_ocid, OCI_USER);
    assert_eq!(oci.fingerprint, OCI_FINGERPRINT);
    assert_eq!(
        oci.private_key.expose_secret().trim_end(),
        OCI_KEY.trim_end()
    );
    assert_eq!(region, m.form.regions[0].location.api_region());
    assert_eq!(base_url.as_deref(), Some("http://127.0.0.1:9/identity"));
    assert_eq!(m.check, CheckState::Checking);
    // Nothing of the credentials is in what is saved to disk.
    let draft = serde_json::to_string(&m.form).unwrap();
    assert!(
        !draft.contains(oci_key_marker()) && !draft.contains("PRIVATE KEY"),
        "{draft}"
    );
    assert!(
        !format!("{m:?}").contains(oci_key_marker()),
        "Debug shows the key"
    );
    // The screen says what the key is, never its text.
    let screen = draw(&m, 120, 40);
    assert!(screen.contains("RSA 2048-bit private key"), "{screen}");
    assert!(!screen.contains("MII"), "{screen}");
}

#[test]
fn credentials_oci_key_path_is_read_on_enter_and_only_its_text_is_kept() {
    let mut m = on_oci_credentials();
    focus_on(&mut m, FieldId::OciKey);
    let path = "/home/ops/.oci/openova.pem";
    let effects = typed(&mut m, path);
    assert!(
        effects.iter().all(|e| !matches!(e,
            Effect::StoreSecret { value, .. } if value.expose_secret().contains("openova.pem"))),
        "the path is not stored as the key"
    );
    assert!(
        errors_of(&m)
            .iter()
            .any(|(f, e)| f == "credentials.private_key"
                && e.contains("press Enter to read the key from /home/ops/.oci/openova.pem"))
    );
    let effects = m.update(key(KeyCode::Enter));
    assert!(
        matches!(&effects[..], [Effect::ReadOciKey { path: p }] if p == path),
        "{effects:?}"
    );
    assert_eq!(
        focused(&m),
        Some(FieldId::OciKey),
        "focus waits for the key"
    );
    // An unreadable file says so and changes nothing.
    m.update(Input::Msg(Msg::OciKeyRead {
        path: path.into(),
        result: Err("No such file or directory (os error 2)".into()),
    }));
    assert!(m.status.as_ref().is_some_and(|n| {
        n.error
            && n.text
                .contains("Cannot read the API private key from /home/ops/.oci/openova.pem")
    }));
    assert_eq!(m.oci_key.field.value(), path);
    let effects = m.update(Input::Msg(Msg::OciKeyRead {
        path: path.into(),
        result: Ok(secrecy::SecretString::from(OCI_KEY.to_owned())),
    }));
    assert_eq!(m.oci_key_input(), OciKeyInput::Pem(Ok(2048)));
    assert!(
        m.status
            .as_ref()
            .is_some_and(|n| n.text.contains("2048-bit RSA key"))
    );
    assert!(effects.iter().any(|e| matches!(e,
        Effect::StoreSecret { name: SecretName::OciPrivateKey, value, .. }
            if value.expose_secret().starts_with("-----BEGIN PRIVATE KEY-----\n"))));
    // The other values are missing, so nothing is sent yet.
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::CheckToken { .. }))
    );
    let draft = serde_json::to_string(&m.form).unwrap();
    assert!(!draft.contains("openova.pem") && !draft.contains(oci_key_marker()));
}

#[test]
fn credentials_oci_region_is_the_first_clusters_and_changing_it_resets_the_check() {
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    m.check = CheckState::Valid("API key accepted by the OCI Identity service".into());
    focus_on(&mut m, FieldId::OciRegion);
    let before = m.form.regions[0].location;
    m.update(key(KeyCode::Right));
    assert_ne!(m.form.regions[0].location, before);
    assert_eq!(m.form.regions[0].location.provider(), Provider::Oci);
    assert_eq!(m.check, CheckState::NotChecked);
}

#[test]
fn export_oci_files_each_credential_under_its_own_reference_and_the_compartment() {
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    focus_on(&mut m, FieldId::OciCompartment);
    typed(&mut m, OCI_COMPARTMENT);
    let mut f = filled();
    f.form.provider = Provider::Oci;
    f.form.regions = m.form.regions.clone();
    f.form.oci_compartment = m.form.oci_compartment.clone();
    for name in SecretName::ALL {
        f.secret_mut(name).field.set(m.secret(name).field.value());
    }
    f.form.secret_storage = SecretStorage::Keyring;
    f.keyring_prefix = "db-4f2a".into();
    let text = super::export::platform_toml(&f).unwrap();
    for (key, entry) in [
        ("tenancy_ocid", "provider_token"),
        ("user_ocid", "oci_user_ocid"),
        ("fingerprint", "oci_fingerprint"),
        ("private_key", "oci_private_key"),
    ] {
        let line = format!("{key} = \"keyring:openova/db-4f2a/draft-1/{entry}\"");
        assert!(text.contains(&line), "{line} in {text}");
    }
    assert!(
        text.contains(&format!("[oci]\ncompartment_ocid = \"{OCI_COMPARTMENT}\"")),
        "{text}"
    );
    assert!(
        !text.contains(oci_key_marker()) && !text.contains(OCI_TENANCY),
        "{text}"
    );
    let back = super::export::form_from_toml(&text).unwrap();
    assert_eq!(back.oci_compartment, OCI_COMPARTMENT);
    f.form.secret_storage = SecretStorage::Memory;
    let text = super::export::platform_toml(&f).unwrap();
    assert!(
        text.contains("private_key = \"env:OCI_PRIVATE_KEY\""),
        "{text}"
    );
    assert!(
        text.contains("tenancy_ocid = \"env:OCI_TENANCY_OCID\""),
        "{text}"
    );
}

/// An OCI Identity stand-in on loopback that verifies the request's HTTP signature
/// (rsa-sha256 over the signed headers, as OCI does) with the fixture's public key: 200 for
/// `GET /20160918/users/<user>` signed by the expected key id, 401 otherwise.
fn oci_stand_in(seen: std::sync::mpsc::Sender<String>) -> String {
    use base64::Engine as _;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::Verifier;
    use std::io::{BufRead, BufReader, Write};
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(OCI_KEY)
        .unwrap()
        .to_public_key();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let verify = move |request_line: &str, headers: &[(String, String)]| -> Result<(), String> {
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let auth = header("authorization").ok_or("no Authorization")?;
        let params: std::collections::HashMap<&str, &str> = auth
            .strip_prefix("Signature ")
            .ok_or("not a signature")?
            .split(',')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k, v.trim_matches('"')))
            .collect();
        if params.get("algorithm") != Some(&"rsa-sha256")
            || params.get("keyId")
                != Some(&format!("{OCI_TENANCY}/{OCI_USER}/{OCI_FINGERPRINT}").as_str())
        {
            return Err("algorithm or keyId".into());
        }
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if target != format!("/20160918/users/{OCI_USER}") {
            return Err(format!("asked {target}"));
        }
        let mut lines = Vec::new();
        for n in params.get("headers").ok_or("no headers")?.split(' ') {
            let v = if n == "(request-target)" {
                format!("{} {target}", method.to_lowercase())
            } else {
                header(n).ok_or(format!("{n} not sent"))?
            };
            lines.push(format!("{n}: {v}"));
        }
        for required in ["date", "(request-target)", "host"] {
            if !lines
                .iter()
                .any(|l| l.starts_with(&format!("{required}: ")))
            {
                return Err(format!("{required} not signed"));
            }
        }
        let sig = base64::engine::general_purpose::STANDARD
            .decode(params.get("signature").ok_or("no signature")?)
            .map_err(|_| "not base64")?;
        let sig = Signature::try_from(sig.as_slice()).map_err(|_| "signature shape")?;
        VerifyingKey::<sha2::Sha256>::new(public.clone())
            .verify(lines.join("\n").as_bytes(), &sig)
            .map_err(|_| "signature mismatch".to_string())
    };
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut head = request_line.clone();
            let mut headers = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                head.push_str(&line);
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                line.clear();
            }
            let verdict = verify(request_line.trim_end(), &headers);
            let _ = seen.send(format!("{head}\nverdict: {verdict:?}"));
            let (status, body) = match verdict {
                Ok(()) => ("200 OK", format!(r#"{{"id":"{OCI_USER}","name":"ops"}}"#)),
                Err(_) => (
                    "401 Unauthorized",
                    r#"{"code":"NotAuthenticated","message":"The required information to complete authentication was not provided or was incorrect."}"#.to_owned(),
                ),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn live_check_oci_is_signed_with_the_api_key_and_never_sends_it() {
    let (tx, rx) = std::sync::mpsc::channel();
    let base = oci_stand_in(tx);
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    m.oci_identity_url = Some(base.clone());
    let effects = m.update(key(KeyCode::Enter));
    let Some(Effect::CheckToken {
        token,
        region,
        base_url,
        oci: Some(keys),
        ..
    }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::CheckToken { .. }))
    else {
        panic!("the check");
    };
    let check = |keys: super::update::OciKeys| {
        super::check_oci(
            &token,
            keys,
            region.clone(),
            base_url.clone(),
            std::time::Duration::from_secs(5),
        )
    };
    let ok = check(keys.clone()).expect("accepted");
    assert!(ok.contains("accepted by the OCI Identity service"), "{ok}");
    let head = rx.recv().unwrap();
    assert!(head.contains("verdict: Ok(())"), "{head}");
    assert!(
        !head.contains(oci_key_marker()),
        "the key travelled: {head}"
    );
    let other = super::update::OciKeys {
        fingerprint: "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99".into(),
        ..keys
    };
    let Err(CheckFailure::Report(why)) = check(other) else {
        panic!("another key id is rejected");
    };
    assert!(why.contains("401") && why.contains("fingerprint"), "{why}");
    assert!(!why.contains(oci_key_marker()), "{why}");
}

#[test]
fn snapshots_oci_credentials() {
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    focus_on(&mut m, FieldId::OciCompartment);
    typed(&mut m, OCI_COMPARTMENT);
    focus_on(&mut m, FieldId::OciKey);
    m.check = CheckState::Valid("API key accepted by the OCI Identity service".into());
    snap("credentials__oci", &m);
    let mut e = on_oci_credentials();
    focus_on(&mut e, FieldId::OciFingerprint);
    snap("credentials__oci_empty", &e);
}

#[test]
fn review_oci_lists_the_credentials_and_only_what_the_key_is() {
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    let text: String = super::screens::review::lines(&m, &Theme::mono())
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        text.contains(OCI_TENANCY) && text.contains(OCI_FINGERPRINT),
        "{text}"
    );
    assert!(text.contains("RSA 2048-bit (kept, never shown)"), "{text}");
    assert!(text.contains("root (the tenancy)"), "{text}");
    assert!(
        !text.contains(oci_key_marker()) && !text.contains("PRIVATE KEY"),
        "{text}"
    );
}

#[test]
fn resume_oci_draft_gets_its_key_back_from_the_store_and_checks_it() {
    let mut m = on_oci_credentials();
    oci_entered(&mut m);
    let secrets: Vec<(SecretName, secrecy::SecretString)> = SecretName::ALL
        .iter()
        .filter(|n| !m.secret(**n).is_empty())
        .map(|n| (*n, m.secret_value(*n)))
        .collect();
    let mut r = fresh();
    r.oci_identity_url = Some("http://127.0.0.1:9/identity".into());
    let effects = r.update(Input::Msg(Msg::DraftOpened {
        id: 1,
        form: Box::new(m.form.clone()),
        secrets,
    }));
    assert_eq!(r.oci_key_input(), OciKeyInput::Pem(Ok(2048)));
    assert_eq!(
        r.oci_identity_url.as_deref(),
        Some("http://127.0.0.1:9/identity")
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::CheckToken { provider: Provider::Oci, oci: Some(k), .. } if k.user_ocid == OCI_USER
    )));
}
