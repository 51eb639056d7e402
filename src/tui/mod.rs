//! Terminal UI: the runtime, theme, keys, widgets and dialogs shared by the bootstrap wizard and
//! the day-2 console.

pub mod bootstrap;
pub mod dialog;
pub mod keymap;
pub mod manage;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod widgets;
