//! Owns `openova tui manage`: the day-2 console attached to any number of clusters' `Platform` and
//! `Component` resources. State lives in `model`, reactions in `update`, drawing in `panes` and
//! `dialogs`; cluster objects become views in `views`, arrive through `watchers` and writes go
//! out through `effects`; this file wires them to the terminal runtime.

pub mod dialogs;
pub mod effects;
#[cfg(any(test, feature = "dev-tools"))]
pub mod fixtures;
pub mod keys;
pub mod model;
pub mod panes;
pub mod update;
pub mod views;
pub mod watchers;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use ratatui::Frame;

use crate::tui::runtime::{App, Input, Update};
use crate::tui::theme::Theme;

use model::Model;
use update::{Effect, Msg};

/// Arguments of `openova tui manage`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("clusters")
        .required(true)
        .multiple(true)
        .args(["contexts", "all_contexts", "contexts_matching"])
))]
pub struct ManageArgs {
    /// Kubeconfig context to attach to; give it once per cluster (both regions, a whole fleet).
    /// `:ctx NAME` switches, and attaches any other context of the kubeconfig at run time.
    #[arg(long = "context", num_args = 1, action = clap::ArgAction::Append)]
    pub contexts: Vec<String>,
    /// Attach every context of the kubeconfig.
    #[arg(long)]
    pub all_contexts: bool,
    /// Attach every context whose name matches GLOB (`*` any text, `?` one character), e.g.
    /// `'hz-*-prod'`.
    #[arg(long, value_name = "GLOB")]
    pub contexts_matching: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Namespace holding the Platform and Component resources (default: each context's own
    /// namespace, else openova-system).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Watch only: every install, uninstall and upgrade action is disabled.
    #[arg(long)]
    pub readonly: bool,
    /// Theme: an embedded name (default, light, high-contrast, mono) or a theme file.
    #[arg(long)]
    pub theme: Option<String>,
}

/// The console as an application of the shared runtime.
pub struct Console {
    pub model: Model,
    pub theme: Theme,
}

impl Console {
    pub fn new(model: Model, theme: Theme) -> Console {
        Console { model, theme }
    }

    /// Apply a console message; the runtime-independent entry point (used by benches and tests).
    pub fn apply(&mut self, msg: Msg) -> update::Outcome {
        let out = update::update(&mut self.model, msg);
        for e in &out.effects {
            if let Effect::SetTheme(name) = e
                && let Ok(t) = Theme::builtin(name)
            {
                self.theme = t;
            }
        }
        out
    }
}

impl App for Console {
    type Msg = Msg;
    type Effect = Effect;

    fn update(&mut self, input: Input<Msg>) -> Update<Effect> {
        let msg = match input {
            Input::Key(k) => Msg::Key(k),
            Input::Resize(..) => Msg::Resized,
            Input::Msg(m) => m,
            Input::Paste(text) => {
                // Paste goes into whichever text field is open, character by character, so the
                // field's own filtering of control characters applies.
                let mut out = Update::unchanged();
                for ch in text.chars().filter(|c| !c.is_control()) {
                    let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(ch));
                    if self.accepts_text() {
                        out.merge(self.apply(Msg::Key(key)));
                    }
                }
                return out;
            }
            // Nothing in the console animates.
            Input::Tick => return Update::unchanged(),
            Input::Terminate => {
                self.model.quit = true;
                return Update::changed();
            }
        };
        self.apply(msg)
    }

    fn render(&self, frame: &mut Frame) {
        panes::render(&self.model, frame, &self.theme);
    }

    fn finished(&self) -> bool {
        self.model.quit
    }
}

impl Console {
    fn accepts_text(&self) -> bool {
        matches!(
            self.model.dialogs.last(),
            Some(model::Dialog::Command(_)) | Some(model::Dialog::Schedule(_))
        ) || (self.model.dialogs.is_empty() && self.model.components.filtering)
    }
}

fn choose_theme(arg: Option<&str>) -> color_eyre::Result<Theme> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Ok(match arg {
        _ if no_color => Theme::mono(),
        Some(name) if crate::tui::theme::BUILTIN.contains(&name) => Theme::builtin(name)?,
        Some(path) => Theme::from_file(std::path::Path::new(path))?,
        None => Theme::select(None)?,
    })
}

/// Run the console until the operator quits or the session ends.
pub fn run(args: ManageArgs) -> crate::cmd::CmdResult {
    let theme = choose_theme(args.theme.as_deref())?;
    let _log = crate::telemetry::init(crate::telemetry::LogTarget::File);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Kubeconfig mistakes (unknown context, a pattern matching nothing, unreadable file)
        // are reported before the screen opens; reachability is shown on the screen, where it
        // can change.
        let loaded = crate::cluster::connect::load_kubeconfig(args.kubeconfig.as_deref())?;
        let choice = crate::cluster::connect::ContextChoice {
            named: args.contexts.clone(),
            matching: args.contexts_matching.clone(),
            all: args.all_contexts,
        };
        let names = crate::cluster::connect::select_contexts(&loaded, &choice)?;
        let mut conns = Vec::with_capacity(names.len());
        for name in &names {
            conns.push(
                crate::cluster::connect::connect_with(
                    &loaded,
                    Some(name),
                    args.namespace.as_deref(),
                )
                .await?,
            );
        }
        let clusters = conns
            .iter()
            .map(|c| {
                model::ClusterView::new(c.context.clone(), c.server_url.clone())
                    .in_namespace(c.namespace.clone())
            })
            .collect();
        let catalog = crate::catalog::embedded();
        let namespace = args
            .namespace
            .clone()
            .or_else(|| conns.first().map(|c| c.namespace.clone()))
            .unwrap_or_else(|| crate::crd::consts::NAMESPACE.to_owned());
        let mut m = Model::new(
            clusters,
            namespace,
            args.readonly,
            views::catalog_entries(catalog),
        );
        m.kube_contexts = loaded.context_names();
        m.themes = crate::tui::theme::BUILTIN
            .iter()
            .map(|s| s.to_string())
            .collect();
        m.theme = theme.name.clone();
        let mut console = Console::new(m, theme);
        let (tx, rx) = crate::tui::runtime::channel();
        for (i, conn) in conns.iter().enumerate() {
            watchers::spawn(i, conn.clone(), tx.clone());
        }
        let mut runner = effects::Runner::new(conns, catalog.clone(), loaded, args.namespace);
        let mut guard = crate::tui::terminal::TerminalGuard::enter()?;
        crate::tui::runtime::run(guard.terminal(), &mut console, &mut runner, tx, rx).await?;
        drop(guard);
        Ok(std::process::ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod args_tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command, TuiCommand};

    fn parse(args: &[&str]) -> Result<super::ManageArgs, clap::Error> {
        let argv = ["openova", "tui", "manage"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Tui(TuiCommand::Manage(a)) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn manage_args_any_number_of_contexts_all_or_a_pattern_but_one_of_them() {
        let many: Vec<String> = (0..20).map(|i| format!("region-{i}")).collect();
        let mut argv = Vec::new();
        for c in &many {
            argv.extend(["--context", c.as_str()]);
        }
        assert_eq!(parse(&argv).expect("20 contexts").contexts, many);
        assert!(parse(&["--all-contexts"]).expect("all").all_contexts);
        let a = parse(&["--contexts-matching", "hz-*", "--context", "aws-dev"]).expect("both");
        assert_eq!(a.contexts_matching.as_deref(), Some("hz-*"));
        assert_eq!(a.namespace, None, "each context's own namespace by default");
        let none = parse(&["--readonly"]).expect_err("a cluster is required");
        assert_eq!(
            none.kind(),
            clap::error::ErrorKind::MissingRequiredArgument,
            "{none}"
        );
    }
}
