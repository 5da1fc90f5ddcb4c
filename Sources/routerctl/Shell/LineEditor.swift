#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@preconcurrency import CReadline

/// GNU readline, driven through its callback interface so that Ctrl-C is a flag checked
/// between keystrokes (no readline calls from a signal handler), with a history file and a
/// completion hook.
///
/// Readline is process-global C state, used only from the main thread; the `nonisolated(unsafe)`
/// statics below are touched only by these methods and readline's callbacks, which readline
/// calls on the same thread from inside `rl_callback_read_char`.
enum LineEditor {
    nonisolated(unsafe) private static var finished = false
    nonisolated(unsafe) private static var line: String?
    nonisolated(unsafe) private static var candidates: [String] = []
    nonisolated(unsafe) private static var complete: (_ before: String, _ word: String) -> [String] = { _, _ in [] }

    enum Input {
        case line(String)
        case endOfFile
        case interrupted
    }

    /// A line shown under the next list of completions (then cleared), e.g. that it is capped.
    nonisolated(unsafe) static var listNote: String?

    static func configure(completion: @escaping (_ before: String, _ word: String) -> [String]) {
        complete = completion
        rl_completion_display_matches_hook = { matches, count, longest in
            rl_display_match_list(matches, count, longest)
            if let note = LineEditor.listNote {
                fputs(note + "\n", rl_outstream ?? stdout)
            }
            rl_forced_update_display()
        }
        rl_readline_name = UnsafePointer(strdup("routerctl"))
        rl_catch_signals = 0
        rl_completer_word_break_characters = UnsafePointer(strdup(" \t\n\"'"))
        rl_attempted_completion_function = { text, start, _ in
            rl_attempted_completion_over = 1
            LineEditor.listNote = nil
            let before = String(cString: rl_line_buffer).utf8.prefix(Int(start))
            LineEditor.candidates = LineEditor.complete(String(decoding: before, as: UTF8.self), text.map { String(cString: $0) } ?? "")
            return rl_completion_matches(text) { _, state in
                if state == 0 { LineEditor.cursor = 0 }
                guard LineEditor.cursor < LineEditor.candidates.count else { return nil }
                LineEditor.cursor += 1
                return strdup(LineEditor.candidates[LineEditor.cursor - 1])
            }
        }
        using_history()
        stifle_history(1000)
    }

    nonisolated(unsafe) private static var cursor = 0

    /// Reads one line with `prompt`; Ctrl-C abandons the typed line.
    static func read(prompt: String) -> Input {
        finished = false
        line = nil
        rl_callback_handler_install(prompt) { raw in
            LineEditor.finished = true
            LineEditor.line = raw.map { String(cString: $0) }
            free(raw)
            rl_callback_handler_remove()
        }
        while !finished {
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, -1)
            if Interrupt.isSet {
                if Interrupt.isTermination {
                    rl_callback_handler_remove()
                    return .endOfFile
                }
                Interrupt.reset()
                rl_free_line_state()
                rl_replace_line("", 0)
                rl_crlf()
                rl_callback_handler_remove()
                return .interrupted
            }
            if r > 0 { rl_callback_read_char() }
        }
        guard let line else {
            rl_crlf()
            return .endOfFile
        }
        return .line(line)
    }

    // MARK: History

    static func loadHistory(_ path: String) {
        read_history(path)
    }

    /// Adds a line, dropping any earlier copy of it, and saves the file.
    static func remember(_ text: String, saveTo path: String) {
        var i = Int32(history_length) - 1
        while i >= 0 {
            if let entry = history_get(history_base + i), let stored = entry.pointee.line, String(cString: stored) == text {
                if let removed = remove_history(i) { free_history_entry(removed) }
            }
            i -= 1
        }
        add_history(text)
        write_history(path)
    }
}
