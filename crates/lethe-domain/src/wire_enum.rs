//! `wire_enum!`: enums with one stored and wire spelling per variant.

/// Declares an enum whose variants have one spelling on the wire and in storage,
/// with `as_str`, `parse`, `ALL` and serde impls that name the expected values.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stored and native wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// Parses the stored spelling.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = String::deserialize(d)?;
                Self::parse(&value).ok_or_else(|| {
                    let expected: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    serde::de::Error::custom(format!(
                        "unknown value `{value}`, expected one of: {}",
                        expected.join(", ")
                    ))
                })
            }
        }
    };
}
