//! update() tests of a draft open in two wizards: the question when another wizard holds it,
//! the read-only mode, and a lock lost to a take-over; the runner against a real database.

use crossterm::event::KeyCode;

use super::model::*;
use super::tests::{draw, fresh, key, saved_data, snap, typed};
use super::update::{Effect, FieldId, Msg};
use crate::tui::runtime::Input;

const HOLDER: &str = "pid 4242 on bastion-1 since 10:02 UTC";

/// The resume list with draft #3, told that another wizard holds it.
fn asked() -> Model {
    let mut m = fresh();
    m.draft_id = None;
    m.mode = Mode::Resume {
        drafts: vec![DraftChoice {
            id: 3,
            title: "Acme West".into(),
            progress: 1,
            age: "just now".into(),
        }],
        cursor: 0,
    };
    m.update(Input::Msg(Msg::DraftLocked {
        id: 3,
        title: "Acme West".into(),
        holder: HOLDER.into(),
    }));
    m
}

fn acme(name: &str) -> Form {
    Form {
        org_name: name.into(),
        org_slug: "acme".into(),
        slug_edited: true,
        ..Form::default()
    }
}

fn read_only() -> Model {
    let mut m = fresh();
    m.update(Input::Msg(Msg::DraftOpenedReadOnly {
        id: 3,
        form: Box::new(acme("Acme West")),
        secrets: Vec::new(),
        reason: format!("draft #3 is open in another wizard, {HOLDER}"),
    }));
    m
}

#[test]
fn locked_draft_asks_naming_who_holds_it() {
    let m = asked();
    let d = m.dialogs.last().expect("a question");
    assert_eq!(d.title, "Draft #3 is open elsewhere");
    assert!(d.body[0].contains(HOLDER), "{:?}", d.body);
    let out = draw(&m, 80, 24);
    assert!(out.contains("pid 4242 on bastion-1 since"), "{out}");
    assert!(
        out.contains("r read-only   t take over   c copy   Esc back to the drafts"),
        "{out}"
    );
    snap("resume__draft_open_elsewhere", &m);
}

#[test]
fn locked_draft_each_answer_opens_it_its_way_and_esc_backs_out() {
    for (c, how) in [
        ('r', OpenLocked::ReadOnly),
        ('t', OpenLocked::TakeOver),
        ('c', OpenLocked::Copy),
    ] {
        let mut m = asked();
        let effects = m.update(key(KeyCode::Char(c)));
        assert!(
            matches!(effects.as_slice(), [Effect::OpenLockedDraft { id: 3, how: h }] if *h == how),
            "{c}: {effects:?}"
        );
        assert!(m.dialogs.is_empty());
    }
    let mut m = asked();
    // Enter answers nothing: each way has consequences of its own.
    assert!(m.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(m.dialogs.len(), 1);
    assert!(m.update(key(KeyCode::Esc)).is_empty());
    assert!(m.dialogs.is_empty());
    assert!(matches!(m.mode, Mode::Resume { .. }), "back on the list");
}

#[test]
fn read_only_draft_refuses_every_edit_and_saves_nothing() {
    let mut m = read_only();
    assert_eq!(m.form.org_name, "Acme West");
    assert!(m.read_only.is_some());
    assert!(draw(&m, 80, 24).contains("draft #3 · READ-ONLY · Acme West"));
    // Typing and pasting into a field.
    assert!(typed(&mut m, " East").is_empty());
    assert!(m.update(Input::Paste("East".into())).is_empty());
    assert_eq!(m.form.org_name, "Acme West");
    assert_eq!(m.inputs.org_name.value(), "Acme West");
    let status = m.status.clone().unwrap();
    assert!(status.error, "{status:?}");
    assert!(
        status.text.starts_with(
            "Read-only, nothing changed or saved: draft #3 is open in another wizard, pid 4242"
        ),
        "{}",
        status.text
    );
    // Cycling a choice.
    m.focus = 4; // Environment
    assert!(m.update(key(KeyCode::Right)).is_empty());
    assert_eq!(m.form.env, Form::default().env);
    // Moving on works, and saves nothing.
    let effects = m.update(key(KeyCode::PageDown));
    assert_eq!(saved_data(&effects), None, "{effects:?}");
    assert_eq!(m.form.step, Step::Credentials);
    // A secret, a generated key, the secret storage: refused, nothing filed.
    m.focus = 1; // API token
    assert!(typed(&mut m, "abc").is_empty());
    assert!(m.token.is_empty());
    let fields = super::update::fields(&m, Step::Credentials);
    m.focus = fields.iter().position(|f| *f == FieldId::SshKey).unwrap();
    assert!(m.update(key(KeyCode::Enter)).is_empty());
    m.focus = fields
        .iter()
        .position(|f| *f == FieldId::SecretStorage)
        .unwrap();
    assert!(m.update(key(KeyCode::Right)).is_empty());
    assert_eq!(m.form.secret_storage, SecretStorage::Keyring);
}

#[test]
fn lost_draft_shows_what_it_holds_now_and_goes_read_only() {
    let mut m = fresh();
    m.update(Input::Msg(Msg::DraftOpened {
        id: 3,
        form: Box::new(acme("Acme")),
        secrets: Vec::new(),
    }));
    assert!(saved_data(&typed(&mut m, " West")).is_some());
    let reason = "Draft #3 was taken over by pid 4243 on bastion-2 since 10:05 UTC";
    m.update(Input::Msg(Msg::DraftLost {
        reason: reason.into(),
        stored: Some(Box::new(acme("Acme East"))),
    }));
    assert_eq!(m.form.org_name, "Acme East");
    assert_eq!(m.inputs.org_name.value(), "Acme East");
    let status = m.status.clone().unwrap();
    assert!(status.error);
    assert_eq!(
        status.text,
        format!("Nothing saved, read-only now: {reason}")
    );
    assert!(typed(&mut m, "x").is_empty());
    assert_eq!(m.form.org_name, "Acme East");
}

/// Two wizards' effect runners over one real database file (as two terminals share it), each
/// with its own keyring prefix.
fn two_runners(path: &std::path::Path) -> (super::Runner, super::Runner) {
    use crate::secrets::MemoryStore;
    use crate::store::Store;
    let runner = |prefix: &str| {
        super::Runner::new(
            Store::open(path).unwrap(),
            prefix.into(),
            None,
            MemoryStore::new(),
        )
    };
    (runner("a"), runner("b"))
}

/// Two wizards on one database file, where wizard `a` has created draft #1 and holds it. The
/// temporary directory lives as long as the returned value.
struct OneDraftTwoWizards {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    a: super::Runner,
    b: super::Runner,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Msg>,
}

fn one_draft_two_wizards() -> OneDraftTwoWizards {
    use crate::tui::runtime::EffectRunner;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openova.db");
    let (mut a, b) = two_runners(&path);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    a.perform(Effect::NewDraft, &tx);
    let _ = rx.try_recv();
    OneDraftTwoWizards {
        _dir: dir,
        path,
        a,
        b,
        tx,
        rx,
    }
}

/// The runner over a real (file) database: a wizard that took the draft over saves; the first
/// one's next save writes nothing and reports who took it, with the values stored now.
#[test]
fn runner_save_after_a_take_over_is_refused_and_reported() {
    use super::Runner;
    use crate::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openova.db");
    let (mut a, mut b) = two_runners(&path);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let perform = |r: &mut Runner, e: Effect| {
        crate::tui::runtime::EffectRunner::perform(r, e, &tx);
    };
    let save = |name: &str| Effect::SaveDraft {
        id: 1,
        title: name.into(),
        data: serde_json::to_string(&acme(name)).unwrap(),
        progress: 0,
    };
    perform(&mut a, Effect::NewDraft);
    assert!(matches!(rx.try_recv(), Ok(Msg::DraftOpened { id: 1, .. })));
    perform(&mut b, Effect::OpenDraft(1));
    let Ok(Msg::DraftLocked { holder, .. }) = rx.try_recv() else {
        panic!("the second wizard opened a held draft");
    };
    assert!(
        holder.starts_with(&format!("pid {} on ", std::process::id())),
        "{holder}"
    );
    perform(
        &mut b,
        Effect::OpenLockedDraft {
            id: 1,
            how: OpenLocked::TakeOver,
        },
    );
    assert!(matches!(rx.try_recv(), Ok(Msg::DraftOpened { id: 1, .. })));
    assert!(matches!(rx.try_recv(), Ok(Msg::Note(_))));
    perform(&mut b, save("Acme East"));
    perform(&mut a, save("Acme West"));
    let Ok(Msg::DraftLost { reason, stored }) = rx.try_recv() else {
        panic!("the first wizard's save was not refused");
    };
    assert!(
        reason.starts_with("Draft #1 was taken over by pid"),
        "{reason}"
    );
    assert_eq!(stored.unwrap().org_name, "Acme East");
    // Later saves of the lost draft write nothing and say nothing more.
    perform(&mut a, save("Acme West"));
    assert!(rx.try_recv().is_err());
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.load_draft(1).unwrap().unwrap().summary.title,
        "Acme East"
    );
    // The wizard that lost it leaves the new holder's lock alone when it exits; the holder's
    // own exit releases it.
    drop(a);
    assert!(store.draft_lock(1).unwrap().is_some());
    drop(b);
    assert!(store.draft_lock(1).unwrap().is_none());
}

#[test]
fn runner_copy_opens_a_new_draft_with_the_same_values() {
    use crate::store::Store;
    use crate::tui::runtime::EffectRunner;
    let OneDraftTwoWizards {
        _dir,
        path,
        mut a,
        mut b,
        tx,
        mut rx,
    } = one_draft_two_wizards();
    a.perform(
        Effect::SaveDraft {
            id: 1,
            title: "Acme".into(),
            data: serde_json::to_string(&acme("Acme")).unwrap(),
            progress: 0,
        },
        &tx,
    );
    b.perform(
        Effect::OpenLockedDraft {
            id: 1,
            how: OpenLocked::Copy,
        },
        &tx,
    );
    let Ok(Msg::DraftOpened { id, form, .. }) = rx.try_recv() else {
        panic!("no copy opened");
    };
    assert_eq!((id, form.org_name.as_str()), (2, "Acme"));
    let Ok(Msg::Note(note)) = rx.try_recv() else {
        panic!("the copy was not announced");
    };
    assert_eq!(note, "Draft #2 is a copy of draft #1, yours alone");
    // Each wizard holds its own draft.
    let store = Store::open(&path).unwrap();
    let pid = i64::from(std::process::id());
    assert_eq!(store.draft_lock(2).unwrap().unwrap().pid, pid);
    assert!(!store.holds_draft(1, &b.me).unwrap());
}

#[test]
fn runner_refuses_to_delete_a_draft_open_in_another_wizard() {
    use crate::tui::runtime::EffectRunner;
    let OneDraftTwoWizards {
        _dir,
        path,
        a,
        mut b,
        tx,
        mut rx,
    } = one_draft_two_wizards();
    b.perform(Effect::DeleteDraft(1), &tx);
    let Ok(Msg::Failed(why)) = rx.try_recv() else {
        panic!("a draft open elsewhere was deleted");
    };
    assert!(
        why.starts_with("Draft #1 is open in another wizard (pid ")
            && why.ends_with(": not deleted"),
        "{why}"
    );
    assert!(
        crate::store::Store::open(&path)
            .unwrap()
            .load_draft(1)
            .unwrap()
            .is_some()
    );
    // Once that wizard is gone, it can be deleted.
    drop(a);
    b.perform(Effect::DeleteDraft(1), &tx);
    assert!(matches!(rx.try_recv(), Ok(Msg::DraftDeleted(1))));
}
