/// Unrolls a small innermost loop so that its head — and the interrupt check placed there — is
/// passed once every few iterations instead of on every one.
///
/// A tight loop of a handful of instructions otherwise pays the two dispatches of the check
/// (`global.get`, `if`) on every iteration: sieve's inner loop ran 22–45 % slower for it. With
/// `k` copies of the body the check runs once per `k` iterations, and the copies cost nothing per
/// iteration: a branch that continued the loop now jumps forward to the next copy.
///
///     block bt                  ;; exit: the loop's results leave through here
///       loop bt
///         <check>
///         block                 ;; copy k-1 continues here
///           …
///             block             ;; copy 1 continues here
///               <body 1>        ;; br to the loop → br to this block; labels outside +k
///               br k            ;; falling off the body leaves the loop
///             end
///             …
///         end
///         <body k>              ;; br to the loop is unchanged; labels outside +1
///       end
///     end
///
/// Copy `i` (1-based) sits inside `k - i` added blocks and the exit block, so a label outside the
/// loop moves out by `k - i + 1`, and so does the exit. Every path that stays in the loop passes
/// the head at least once per `k` iterations, so a guest cannot run unboundedly without a check.
enum LoopUnrolling {
    /// How many copies of a body of `size` bytes to make: enough for the unrolled body to reach
    /// a few hundred bytes, at most 8. At that length the check's two dispatches, once per
    /// `copies` iterations, measured within the machine's noise on sha256 (whose round loops
    /// are 75–143 bytes); with half as many copies sha256 still paid 5–19 %. A body over
    /// ``ModuleLayout/largestUnrolledBody`` is not copied.
    static func copies(forBodyOfSize size: Int) -> Int {
        switch size {
        case ...48: return 8
        case ...128: return 4
        case ...ModuleLayout.largestUnrolledBody: return 2
        default: return 1
        }
    }

    /// The bytes that replace `loop` (from its opcode to its `end`, inclusive).
    static func unrolled(_ loop: ModuleLayout.InnermostLoop, in bytes: [UInt8], copies: Int, check: [UInt8]) -> [UInt8] {
        let blockType = bytes[loop.blockType]
        var code: [UInt8] = [0x02] + blockType + [0x03] + blockType + check
        for _ in 1..<copies { code += [0x02, 0x40] }
        for copy in 1...copies {
            let shift = UInt32(copies - copy + 1)
            code += body(loop, in: bytes, shiftingOuterLabelsBy: shift)
            if copy < copies {
                code += [0x0c] + LEB128.unsigned(shift) + [0x0b]  // br exit; end
            }
        }
        return code + [0x0b, 0x0b]  // end loop; end exit
    }

    /// The loop's body with every branch to a label outside the loop moved out by `shift`.
    private static func body(_ loop: ModuleLayout.InnermostLoop, in bytes: [UInt8], shiftingOuterLabelsBy shift: UInt32) -> [UInt8] {
        var code: [UInt8] = []
        var position = loop.body.lowerBound
        for branch in loop.branches {
            code += bytes[position..<branch.range.lowerBound]
            let depths = branch.depths.map { $0 > branch.nesting ? $0 + shift : $0 }
            switch branch.kind {
            case .br: code += [0x0c] + LEB128.unsigned(depths[0])
            case .brIf: code += [0x0d] + LEB128.unsigned(depths[0])
            case .brTable:
                code += [0x0e] + LEB128.unsigned(UInt32(depths.count - 1))
                for depth in depths { code += LEB128.unsigned(depth) }
            }
            position = branch.range.upperBound
        }
        return code + bytes[position..<loop.body.upperBound]
    }
}
