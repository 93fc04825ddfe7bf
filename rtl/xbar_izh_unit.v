// NeuroXbar: the fixed-point Izhikevich neuron update unit, a synthesizable-style Verilog-2005 model written from
// docs/ir.md ("#### `izhikevich` (Izhikevich 2003, fixed point)" and "Values and types"), independently of the
// Swift engines and of scripts/izh_reference.py. docs/rtl-izhikevich.md describes it; rtl/xbar_izh_tb.v checks it
// against vector files.
//
// One neuron i, one timestep, with x = I + bias (every division is round_RND, every fit is sat):
//   vv := v; uu := u; fired := 0
//   repeat K = 2^H times:
//     if !fired:
//       q  := round(vv * vv / 2^F)                   ; q := round(q * Q / 2^S)
//       dv := q + 5 vv + 140 * 2^F - uu + x
//       vv := sat_V(vv + round(dv / 2^H))
//       bv := round(b * vv / 2^G)
//       uu := sat_U(uu + round(a * (bv - uu) / 2^(G + H)))
//       fired := (vv >= PK)
//   spike := fired; vtrace := vv (before the reset)
//   fired:  v_next := c;  u_next := sat_U(uu + d)     else: v_next := vv; u_next := uu
//   count_next := min(count + spike, 2^C - 1)
// round(n / 2^s) for s = 0 is n; for s >= 1 by RND: 0 floor, 1 trunc (toward zero), 2 half_up (floor((n + 2^(s-1))
// / 2^s): nearest, ties toward +infinity), 3 half_even (nearest, ties to the even quotient).
// Every intermediate is a 96-bit signed value: with |a|, |b|, |c|, |d|, |bias|, |Q|, |PK| < 2^31, |I| < 2^(IB-1) <=
// 2^63, |v| <= 2^31, |u| <= 2^31, F, G, S <= 31 and H <= 7, the largest ones (a * (bv - uu) and q * Q) stay below
// 2^94, so the unit computes the mathematical values exactly even outside the verifier's 2^62 bounds.
//
// Timing: one sub-step per clock. A `start` sampled high while the unit is idle (busy = 0) loads the neuron (edge
// 0); edges 1 ... K run sub-steps 1 ... K (a fired neuron holds its state, so the latency does not depend on the
// data); edge K also applies the reset and registers the results, and `done` is high for the one cycle after it.
// Latency: K + 1 clock edges from the sampled start to valid outputs. `start` may be asserted in the `done` cycle,
// so a stream of neurons takes K + 1 cycles per neuron per timestep.
//
// Ports
//   clk, rst          clock; synchronous reset (idle, done = 0, outputs 0)
//   Configuration (the program image; hold stable from start to done):
//   cfg_f  [4:0]      F, frac: state LSB = 2^-F mV (140 * 2^F is the constant term)
//   cfg_g  [4:0]      G, abfrac: a and b in 2^-G units
//   cfg_h  [2:0]      H: K = 2^H Euler sub-steps of 2^-H ms (the IR allows 0 ... 4)
//   cfg_q  [31:0] s   Q, quad: 0.04 ~ Q / 2^S
//   cfg_s  [4:0]      S, shr of the quadratic term
//   cfg_pk [31:0] s   PK, the peak (state LSBs); fired := (vv >= PK)
//   cfg_rnd [1:0]     RND: 0 floor, 1 trunc, 2 half_up, 3 half_even
//   cfg_vbits [5:0]   V of iV: the saturation width of v, 1 ... VB (0 or > VB means VB)
//   cfg_ubits [5:0]   U of iU: the saturation width of u, 1 ... UB (0 or > UB means UB)
//   cfg_cbits [6:0]   C of uC: the saturation width of count, 1 ... CB (0 or > CB means CB)
//   Neuron (sampled with start):
//   start             load a neuron and begin its update (when busy = 0)
//   a, b [31:0] s     per-neuron a, b (2^-G units)
//   c, d [31:0] s     per-neuron reset value c (must fit iV) and u increment d (state LSBs)
//   bias [31:0] s     per-neuron bias current (state LSBs)
//   i_in [IB-1:0] s   this step's input current I (state LSBs)
//   v_in [VB-1:0] s   state v (fits iV), u_in [UB-1:0] s state u (fits iU), count_in [CB-1:0] spike count (fits uC)
//   Results (valid while done = 1, held until the next result):
//   busy              high from the sampled start to the edge that raises done
//   done              one-cycle pulse: the results below are valid
//   v_out  [VB-1:0] s v after the step (c if the neuron fired)
//   u_out  [UB-1:0] s u after the step (sat(uu + d) if the neuron fired)
//   vtrace [VB-1:0] s vv before the reset (the membrane trace)
//   spike             fired
//   count_out [CB-1:0] count after the step
`timescale 1ns/1ps

module xbar_izh_unit #(
    parameter integer VB = 32,   // storage width of v (8 ... 32)
    parameter integer UB = 32,   // storage width of u (8 ... 32)
    parameter integer CB = 16,   // storage width of count (1 ... 64)
    parameter integer IB = 32    // width of the input current I (1 ... 64)
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [4:0]            cfg_f,
    input  wire [4:0]            cfg_g,
    input  wire [2:0]            cfg_h,
    input  wire signed [31:0]    cfg_q,
    input  wire [4:0]            cfg_s,
    input  wire signed [31:0]    cfg_pk,
    input  wire [1:0]            cfg_rnd,
    input  wire [5:0]            cfg_vbits,
    input  wire [5:0]            cfg_ubits,
    input  wire [6:0]            cfg_cbits,
    input  wire                  start,
    input  wire signed [31:0]    a,
    input  wire signed [31:0]    b,
    input  wire signed [31:0]    c,
    input  wire signed [31:0]    d,
    input  wire signed [31:0]    bias,
    input  wire signed [IB-1:0]  i_in,
    input  wire signed [VB-1:0]  v_in,
    input  wire signed [UB-1:0]  u_in,
    input  wire        [CB-1:0]  count_in,
    output reg                   busy,
    output reg                   done,
    output reg  signed [VB-1:0]  v_out,
    output reg  signed [UB-1:0]  u_out,
    output reg  signed [VB-1:0]  vtrace,
    output reg                   spike,
    output reg         [CB-1:0]  count_out
);
    localparam integer W = 96;   // intermediate width

    // ---- shared arithmetic -------------------------------------------------------------------------------------
    // round_mode(n / 2^s): 0 floor, 1 trunc, 2 half_up, 3 half_even; s = 0 returns n.
    function signed [W-1:0] round_shr;
        input signed [W-1:0] n;
        input [6:0] s;
        input [1:0] mode;
        reg signed [W-1:0] fl;    // floor(n / 2^s)
        reg signed [W-1:0] rem;   // n - fl * 2^s, in [0, 2^s)
        reg signed [W-1:0] half;  // 2^(s-1)
        reg up;
        begin
            if (s == 7'd0) begin
                round_shr = n;
            end else begin
                fl   = n >>> s;
                rem  = n - (fl <<< s);
                half = {{(W-1){1'b0}}, 1'b1} <<< (s - 7'd1);
                case (mode)
                    2'd0:    up = 1'b0;                                         // floor
                    2'd1:    up = n[W-1] && (rem != 0);                         // trunc: toward zero
                    2'd2:    up = (rem >= half);                                // half_up
                    default: up = (rem > half) || ((rem == half) && fl[0]);    // half_even
                endcase
                round_shr = fl + {{(W-1){1'b0}}, up};
            end
        end
    endfunction

    // sat to the signed w-bit range [-2^(w-1), 2^(w-1) - 1], 1 <= w <= 64.
    function signed [W-1:0] sat_signed;
        input signed [W-1:0] x;
        input [6:0] w;
        reg signed [W-1:0] mx, mn;
        begin
            mx = ({{(W-1){1'b0}}, 1'b1} <<< (w - 7'd1)) - 1;
            mn = -mx - 1;
            sat_signed = (x > mx) ? mx : (x < mn) ? mn : x;
        end
    endfunction

    // Effective saturation widths.
    localparam [6:0] VB7 = VB[6:0], UB7 = UB[6:0], CB7 = CB[6:0];
    wire [6:0] vw = (cfg_vbits == 6'd0 || {1'b0, cfg_vbits} > VB7) ? VB7 : {1'b0, cfg_vbits};
    wire [6:0] uw = (cfg_ubits == 6'd0 || {1'b0, cfg_ubits} > UB7) ? UB7 : {1'b0, cfg_ubits};
    wire [6:0] cw = (cfg_cbits == 7'd0 || cfg_cbits > CB7) ? CB7 : cfg_cbits;

    // ---- state -------------------------------------------------------------------------------------------------
    reg                 run;        // sub-steps in progress
    reg [7:0]           k_r;        // sub-steps done
    reg signed [VB-1:0] vv_r;
    reg signed [UB-1:0] uu_r;
    reg                 fired_r;
    reg signed [W-1:0]  x_r;        // I + bias
    reg signed [31:0]   a_r, b_r, c_r, d_r;
    reg        [CB-1:0] count_r;

    wire signed [W-1:0] i_x    = $signed({{(W-IB){i_in[IB-1]}}, i_in});
    wire signed [W-1:0] bias_x = $signed({{(W-32){bias[31]}}, bias});
    wire [7:0] k_last = (8'd1 << cfg_h) - 8'd1;

    // ---- one sub-step, combinational ---------------------------------------------------------------------------
    // Sign-extended operands.
    wire signed [W-1:0] vv_x = $signed({{(W-VB){vv_r[VB-1]}}, vv_r});
    wire signed [W-1:0] uu_x = $signed({{(W-UB){uu_r[UB-1]}}, uu_r});
    wire signed [W-1:0] a_x  = $signed({{(W-32){a_r[31]}}, a_r});
    wire signed [W-1:0] b_x  = $signed({{(W-32){b_r[31]}}, b_r});
    wire signed [W-1:0] d_x  = $signed({{(W-32){d_r[31]}}, d_r});
    wire signed [W-1:0] q_x  = $signed({{(W-32){cfg_q[31]}}, cfg_q});
    wire signed [W-1:0] pk_x = $signed({{(W-32){cfg_pk[31]}}, cfg_pk});
    wire signed [W-1:0] c140 = $signed({{(W-8){1'b0}}, 8'd140}) <<< cfg_f;   // 140 mV in state LSBs
    wire signed [W-1:0] cnt_max = $signed(({{(W-1){1'b0}}, 1'b1} << cw) - 1);  // uC max
    wire signed [W-1:0] cnt_q   = $signed({{(W-CB){1'b0}}, count_r});

    // verilator lint_off UNUSED
    reg signed [W-1:0] q, dv, vv_n, bv, uu_n, u_reset, cnt_x;   // only the low VB / UB / CB bits leave the unit
    // verilator lint_on UNUSED
    reg fired_n;
    always @* begin
        q    = round_shr(vv_x * vv_x, {2'b00, cfg_f}, cfg_rnd);                      // v^2 in state LSBs
        q    = round_shr(q * q_x, {2'b00, cfg_s}, cfg_rnd);                          // 0.04 v^2
        dv   = q + 5 * vv_x + c140 - uu_x + x_r;
        vv_n = sat_signed(vv_x + round_shr(dv, {4'b0000, cfg_h}, cfg_rnd), vw);       // site v
        bv   = round_shr(b_x * vv_n, {2'b00, cfg_g}, cfg_rnd);
        uu_n = sat_signed(uu_x + round_shr(a_x * (bv - uu_x), {2'b00, cfg_g} + {4'b0000, cfg_h}, cfg_rnd), uw);  // site u
        fired_n = (vv_n >= pk_x);
        if (fired_r) begin   // frozen after the peak
            vv_n    = vv_x;
            uu_n    = uu_x;
            fired_n = 1'b1;
        end
        // Reset and count, used after the last sub-step.
        u_reset = sat_signed(uu_n + d_x, uw);                                           // site u
        cnt_x   = cnt_q + (fired_n ? 1 : 0);
        if (cnt_x > cnt_max) cnt_x = cnt_max;
    end

    // ---- control -----------------------------------------------------------------------------------------------
    always @(posedge clk) begin
        if (rst) begin
            run       <= 1'b0;
            busy      <= 1'b0;
            done      <= 1'b0;
            k_r       <= 8'd0;
            fired_r   <= 1'b0;
            v_out     <= {VB{1'b0}};
            u_out     <= {UB{1'b0}};
            vtrace    <= {VB{1'b0}};
            spike     <= 1'b0;
            count_out <= {CB{1'b0}};
        end else begin
            done <= 1'b0;
            if (!run) begin
                if (start) begin   // load
                    run     <= 1'b1;
                    busy    <= 1'b1;
                    k_r     <= 8'd0;
                    vv_r    <= v_in;
                    uu_r    <= u_in;
                    fired_r <= 1'b0;
                    x_r     <= i_x + bias_x;
                    a_r     <= a;
                    b_r     <= b;
                    c_r     <= c;
                    d_r     <= d;
                    count_r <= count_in;
                end
            end else begin         // sub-step k_r + 1
                vv_r    <= vv_n[VB-1:0];
                uu_r    <= uu_n[UB-1:0];
                fired_r <= fired_n;
                k_r     <= k_r + 8'd1;
                if (k_r == k_last) begin   // last sub-step: reset and results
                    run       <= 1'b0;
                    busy      <= 1'b0;
                    done      <= 1'b1;
                    vtrace    <= vv_n[VB-1:0];
                    spike     <= fired_n;
                    v_out     <= fired_n ? c_r[VB-1:0] : vv_n[VB-1:0];
                    u_out     <= fired_n ? u_reset[UB-1:0] : uu_n[UB-1:0];
                    count_out <= cnt_x[CB-1:0];
                end
            end
        end
    end
endmodule
