extension StringProtocol {
    /// At most `length` characters of this, with "…" in place of what was cut: for quoting
    /// what a person sent in a message without quoting all of it.
    package func clipped(_ length: Int) -> String {
        count <= length ? String(self) : String(prefix(length)) + "…"
    }
}
