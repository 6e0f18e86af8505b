//! Enums whose values are stable codes (in the API and the database) with labels in both
//! languages.

/// Declares such an enum: `code()`, `label_zh()`, `label_en()`, `from_code()` (codes only: for
/// API fields and stored values) and `parse()` (a code or either label: for imported files). The
/// code is a `tt`, not a `literal`: derives (serde, utoipa) then see the plain string.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:tt, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            pub fn from_code(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|v| v.code() == s) }
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| {
                    v.code() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s)
                })
            }
        }
    };
}
