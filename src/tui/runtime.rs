//! Owns the event loop shared by the wizard and the console: one task holds the application state,
//! waits on terminal input, background messages, signals and (only while something animates) a
//! slow tick, runs `update`, performs the effects it returns and redraws only when something
//! happened. Idle means no wake-ups and nothing written to the terminal.

use std::io;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use futures::StreamExt;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::terminal::Term;

/// The smallest terminal every screen is designed for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// How often an animating screen is redrawn. Slow on purpose: over ssh every frame costs bytes.
pub const TICK: Duration = Duration::from_millis(250);

/// Everything `update` can be told about.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<M> {
    Key(KeyEvent),
    /// Bracketed paste: the whole pasted text at once.
    Paste(String),
    Resize(u16, u16),
    Tick,
    /// A result reported by background work.
    Msg(M),
    /// SIGHUP or SIGTERM: the session is ending; keep what must be kept, then the loop exits.
    Terminate,
}

/// What one `update` did: the work to perform, and whether anything on screen changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Update<E> {
    pub effects: Vec<E>,
    /// False when the input left the screen as it was (an ignored key, a report that repeats
    /// what is shown): the runtime then writes nothing to the terminal.
    pub changed: bool,
}

impl<E> Default for Update<E> {
    fn default() -> Self {
        Update {
            effects: Vec::new(),
            changed: false,
        }
    }
}

impl<E> Update<E> {
    /// Nothing to do and nothing to redraw.
    pub fn unchanged() -> Self {
        Update::default()
    }
    /// The screen changed; no work.
    pub fn changed() -> Self {
        Update {
            effects: Vec::new(),
            changed: true,
        }
    }
    /// One piece of work, with a redraw (a status line says it started).
    pub fn effect(effect: E) -> Self {
        Update {
            effects: vec![effect],
            changed: true,
        }
    }
    /// Fold a later update of the same burst into this one.
    pub fn merge(&mut self, other: Update<E>) {
        self.effects.extend(other.effects);
        self.changed |= other.changed;
    }
}

/// An Elm-like application: `update` mutates state without I/O and returns work to do and
/// whether the screen changed; `render` is pure.
pub trait App {
    type Msg: Send + 'static;
    type Effect;

    fn update(&mut self, input: Input<Self::Msg>) -> Update<Self::Effect>;
    fn render(&self, frame: &mut Frame);
    /// True while a spinner or progress display needs the tick.
    fn animating(&self) -> bool {
        false
    }
    /// True once the application wants the loop to end.
    fn finished(&self) -> bool;
}

/// Performs effects. Quick work may run inline; slow work is spawned and reports back through
/// `tx` as a message, so the loop never blocks on the network.
pub trait EffectRunner<E, M> {
    fn perform(&mut self, effect: E, tx: &UnboundedSender<M>);
}

/// A message channel for an application's background work.
pub fn channel<M>() -> (UnboundedSender<M>, UnboundedReceiver<M>) {
    unbounded_channel()
}

/// Render `app`, or a plain explanation when the terminal is below the minimum size.
pub fn render_guarded<A: App>(app: &A, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area);
    } else {
        app.render(frame);
    }
}

fn render_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(format!(
            "The terminal is {}x{}; openova needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        )),
        Line::from("Enlarge the window or reduce the font size. Nothing is lost meanwhile."),
        Line::from("q quits."),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .style(Style::default())
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// Run the loop until the application finishes or the session ends. Must be called inside a
/// tokio runtime.
pub async fn run<A, R>(
    terminal: &mut Term,
    app: &mut A,
    runner: &mut R,
    tx: UnboundedSender<A::Msg>,
    mut rx: UnboundedReceiver<A::Msg>,
) -> io::Result<()>
where
    A: App,
    R: EffectRunner<A::Effect, A::Msg>,
{
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut events = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    terminal.draw(|f| render_guarded(app, f))?;
    while !app.finished() {
        let animating = app.animating();
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => translate(ev),
                Some(Err(e)) => return Err(e),
                // Input closed (terminal gone): behave as on hangup.
                None => Some(Input::Terminate),
            },
            Some(msg) = rx.recv() => Some(Input::Msg(msg)),
            _ = hangup.recv() => Some(Input::Terminate),
            _ = term.recv() => Some(Input::Terminate),
            _ = ticker.tick(), if animating => Some(Input::Tick),
        };
        let Some(first) = first else { continue };
        let terminating = matches!(first, Input::Terminate);
        let resized = matches!(first, Input::Resize(..));
        let mut changed = dispatch(app, runner, &tx, first);
        // Coalesce a burst (a paste, a flood of progress messages) into one redraw.
        while let Ok(msg) = rx.try_recv() {
            changed |= dispatch(app, runner, &tx, Input::Msg(msg));
        }
        if terminating {
            break;
        }
        if resized {
            // After a burst of resizes the size may be back where it was, so ratatui would
            // draw only a diff while the emulator has meanwhile cut or reflowed the screen.
            // Clear and forget the last frame so the next draw is complete; `Terminal::clear`
            // would also ask the terminal for the cursor position, a round trip per resize.
            use ratatui::backend::{Backend, ClearType};
            terminal.backend_mut().clear_region(ClearType::All)?;
            terminal.swap_buffers();
            changed = true;
        }
        // Even an unchanged frame costs bytes (cursor and colour resets), so nothing is drawn
        // unless the model says something on screen changed.
        if changed {
            terminal.draw(|f| render_guarded(app, f))?;
        }
    }
    Ok(())
}

/// Update the app with one input and perform its effects; returns whether the screen changed.
fn dispatch<A, R>(
    app: &mut A,
    runner: &mut R,
    tx: &UnboundedSender<A::Msg>,
    input: Input<A::Msg>,
) -> bool
where
    A: App,
    R: EffectRunner<A::Effect, A::Msg>,
{
    let update = app.update(input);
    for effect in update.effects {
        runner.perform(effect, tx);
    }
    update.changed
}

fn translate<M>(ev: Event) -> Option<Input<M>> {
    match ev {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Input::Key(key)),
        Event::Paste(text) => Some(Input::Paste(text)),
        Event::Resize(w, h) => Some(Input::Resize(w, h)),
        _ => None,
    }
}
