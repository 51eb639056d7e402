//! Owns colours: the embedded themes (`themes/*.toml`), partial user overrides, and `NO_COLOR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const DEFAULT: &str = include_str!("../../themes/default.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");
const HIGH_CONTRAST: &str = include_str!("../../themes/high-contrast.toml");
const MONO: &str = include_str!("../../themes/mono.toml");

/// The names of the embedded themes, in the order they are offered.
pub const BUILTIN: [&str; 4] = ["default", "light", "high-contrast", "mono"];

/// Every style a screen may ask for. A theme file must name only these keys.
pub const SLOTS: [&str; 13] = [
    "text",
    "muted",
    "accent",
    "title",
    "border",
    "border_focus",
    "selected",
    "error",
    "ok",
    "warn",
    "key",
    "input",
    "locked",
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme file {path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("theme {origin}: not valid TOML: {message}")]
    Parse { origin: String, message: String },
    #[error("theme {origin}: unknown style `{key}` (known: {known})")]
    UnknownSlot {
        origin: String,
        key: String,
        known: String,
    },
    #[error("theme {origin}: `{key}`: {message}")]
    BadValue {
        origin: String,
        key: String,
        message: String,
    },
    #[error(
        "theme {origin}: unknown base theme `{name}` (known: default, light, high-contrast, mono)"
    )]
    UnknownBase { origin: String, name: String },
}

/// One style as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    bold: Option<bool>,
    italic: Option<bool>,
    underline: Option<bool>,
    reversed: Option<bool>,
    dim: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ThemeFile {
    /// For a user file: which embedded theme it modifies (default: `default`).
    base: Option<String>,
    #[serde(default)]
    styles: BTreeMap<String, toml::Value>,
}

/// Resolved styles for every slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub selected: Style,
    pub error: Style,
    pub ok: Style,
    pub warn: Style,
    pub key: Style,
    pub input: Style,
    pub locked: Style,
}

impl Theme {
    /// An embedded theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let src = match name {
            "default" => DEFAULT,
            "light" => LIGHT,
            "high-contrast" => HIGH_CONTRAST,
            "mono" => MONO,
            other => {
                return Err(ThemeError::UnknownBase {
                    origin: "selection".into(),
                    name: other.into(),
                });
            }
        };
        let mut theme = Theme::blank(name);
        theme.apply(src, &format!("{name} (embedded)"))?;
        Ok(theme)
    }

    /// The monochrome theme: used for `NO_COLOR` and for snapshots.
    pub fn mono() -> Theme {
        // The embedded mono theme is checked by a test, so this cannot fail in a shipped binary.
        Theme::builtin("mono").unwrap_or_else(|_| Theme::blank("mono"))
    }

    fn blank(name: &str) -> Theme {
        let s = Style::default();
        Theme {
            name: name.into(),
            text: s,
            muted: s,
            accent: s,
            title: s,
            border: s,
            border_focus: s,
            selected: s,
            error: s,
            ok: s,
            warn: s,
            key: s,
            input: s,
            locked: s,
        }
    }

    /// Choose the theme for this session: `NO_COLOR` forces mono whatever else is asked; then an
    /// explicit file, then `$XDG_CONFIG_HOME/openova/theme.toml` if it exists, then `default`.
    pub fn select(explicit: Option<&Path>) -> Result<Theme, ThemeError> {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Ok(Theme::mono());
        }
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => user_theme_path().filter(|p| p.exists()),
        };
        match path {
            Some(p) => Theme::from_file(&p),
            None => Theme::builtin("default"),
        }
    }

    /// A user file: `base = "light"` (optional) plus a partial `[styles]` table.
    pub fn from_file(path: &Path) -> Result<Theme, ThemeError> {
        let src = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Theme::from_user_str(&src, &path.display().to_string())
    }

    pub fn from_user_str(src: &str, origin: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(src).map_err(|e| ThemeError::Parse {
            origin: origin.into(),
            message: e.message().to_string(),
        })?;
        let base = file.base.as_deref().unwrap_or("default");
        let mut theme = Theme::builtin(base).map_err(|_| ThemeError::UnknownBase {
            origin: origin.into(),
            name: base.into(),
        })?;
        theme.apply(src, origin)?;
        Ok(theme)
    }

    fn apply(&mut self, src: &str, origin: &str) -> Result<(), ThemeError> {
        let file: ThemeFile = toml::from_str(src).map_err(|e| ThemeError::Parse {
            origin: origin.into(),
            message: e.message().to_string(),
        })?;
        for (key, value) in file.styles {
            let spec: StyleSpec =
                value
                    .try_into()
                    .map_err(|e: toml::de::Error| ThemeError::BadValue {
                        origin: origin.into(),
                        key: format!("styles.{key}"),
                        message: e.message().to_string(),
                    })?;
            let slot = self.slot_mut(&key).ok_or_else(|| ThemeError::UnknownSlot {
                origin: origin.into(),
                key: format!("styles.{key}"),
                known: SLOTS.join(", "),
            })?;
            *slot = merge(*slot, &spec).map_err(|message| ThemeError::BadValue {
                origin: origin.into(),
                key: format!("styles.{key}"),
                message,
            })?;
        }
        Ok(())
    }

    fn slot_mut(&mut self, key: &str) -> Option<&mut Style> {
        Some(match key {
            "text" => &mut self.text,
            "muted" => &mut self.muted,
            "accent" => &mut self.accent,
            "title" => &mut self.title,
            "border" => &mut self.border,
            "border_focus" => &mut self.border_focus,
            "selected" => &mut self.selected,
            "error" => &mut self.error,
            "ok" => &mut self.ok,
            "warn" => &mut self.warn,
            "key" => &mut self.key,
            "input" => &mut self.input,
            "locked" => &mut self.locked,
            _ => return None,
        })
    }
}

fn user_theme_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("openova/theme.toml"));
    }
    directories::BaseDirs::new().map(|b| b.config_dir().join("openova/theme.toml"))
}

fn merge(mut style: Style, spec: &StyleSpec) -> Result<Style, String> {
    if let Some(fg) = &spec.fg {
        style.fg = Some(parse_color(fg).map_err(|m| format!("fg: {m}"))?);
    }
    if let Some(bg) = &spec.bg {
        style.bg = Some(parse_color(bg).map_err(|m| format!("bg: {m}"))?);
    }
    for (flag, modifier) in [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.underline, Modifier::UNDERLINED),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
    ] {
        match flag {
            Some(true) => style = style.add_modifier(modifier),
            Some(false) => {
                style.add_modifier.remove(modifier);
            }
            None => {}
        }
    }
    Ok(style)
}

/// `reset`, a named ANSI colour (`red`, `light-blue`…), `#rrggbb`, or a 0–255 palette index.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let lower = s.trim().to_ascii_lowercase();
    let named = match lower.replace(['_', ' '], "-").as_str() {
        "reset" | "default" => Some(Color::Reset),
        "black" => Some(Color::Black),
        "red" => Some(Color::Red),
        "green" => Some(Color::Green),
        "yellow" => Some(Color::Yellow),
        "blue" => Some(Color::Blue),
        "magenta" => Some(Color::Magenta),
        "cyan" => Some(Color::Cyan),
        "gray" | "grey" => Some(Color::Gray),
        "dark-gray" | "dark-grey" => Some(Color::DarkGray),
        "light-red" => Some(Color::LightRed),
        "light-green" => Some(Color::LightGreen),
        "light-yellow" => Some(Color::LightYellow),
        "light-blue" => Some(Color::LightBlue),
        "light-magenta" => Some(Color::LightMagenta),
        "light-cyan" => Some(Color::LightCyan),
        "white" => Some(Color::White),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    if let Some(hex) = lower.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("`{s}` is not a #rrggbb colour"));
    }
    if let Ok(i) = lower.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    Err(format!(
        "`{s}` is not a colour (use reset, a name such as light-blue, #rrggbb, or 0-255)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_all_parse_and_set_every_slot_they_name() {
        for name in BUILTIN {
            let theme = Theme::builtin(name).unwrap();
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn mono_theme_uses_no_colour() {
        let t = Theme::mono();
        for s in [
            t.text,
            t.muted,
            t.accent,
            t.title,
            t.border,
            t.border_focus,
            t.selected,
            t.error,
            t.ok,
            t.warn,
            t.key,
            t.input,
            t.locked,
        ] {
            assert!(s.fg.is_none() && s.bg.is_none(), "{s:?}");
        }
    }

    #[test]
    fn user_theme_partial_override_keeps_other_slots() {
        let base = Theme::builtin("light").unwrap();
        let t = Theme::from_user_str(
            "base = \"light\"\n[styles.error]\nfg = \"#ff0000\"\n",
            "test",
        )
        .unwrap();
        assert_eq!(t.error.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(t.accent, base.accent);
    }

    #[test]
    fn user_theme_unknown_slot_error_names_the_key() {
        let err = Theme::from_user_str("[styles.eror]\nfg = \"red\"\n", "my.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("styles.eror") && msg.contains("my.toml"),
            "{msg}"
        );
    }

    #[test]
    fn user_theme_bad_colour_error_names_the_key_and_rule() {
        let err = Theme::from_user_str("[styles.ok]\nfg = \"#12\"\n", "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("styles.ok") && msg.contains("#rrggbb"),
            "{msg}"
        );
    }

    #[test]
    fn user_theme_unknown_field_error_names_the_key() {
        let err = Theme::from_user_str("[styles.ok]\ncolour = \"red\"\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("styles.ok"), "{err}");
    }
}
