// jstat ships no types: the part of its API that the statistics module uses.
declare module 'jstat' {
  interface Distribution {
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  const jstat: {
    jStat: {
      gammaln(x: number): number;
      normal: Distribution;
      studentt: Distribution;
    };
  };
  export default jstat;
}
