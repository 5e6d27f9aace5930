/**
 * A time chart drawn by uPlot on a canvas: no <style> tag, no inline style in the markup, no eval
 * (uPlot sets sizes through the CSSOM, which the Content-Security-Policy allows; its CSS is a file
 * that Vite bundles). Canvas is invisible to screen readers: the figure has a text alternative and
 * every chart of the console is followed by a table of the same figures. Colours follow the DSFR
 * theme (light or dark).
 */
import 'uplot/dist/uPlot.min.css';
import './chart.css';
import { useIsDark } from '@codegouvfr/react-dsfr/useIsDark';
import { type ReactNode, useEffect, useRef } from 'react';
import uPlot from 'uplot';

/** One line of the chart. */
export interface ChartSeries {
  label: string;
  values: number[];
}

const LIGHT = ['#000091', '#c9191e', '#18753c', '#b34000', '#6a6af4', '#716043', '#a558a0', '#006a6f'];
const DARK = ['#8585f6', '#ff6f6e', '#27a658', '#fc7a3c', '#a1a1f8', '#d0c3b7', '#e18fd9', '#34bab5'];

/** The colour of series `index` in the current theme (for legends drawn next to the chart). */
export function seriesColour(index: number, dark: boolean): string {
  const palette = dark ? DARK : LIGHT;
  return palette[index % palette.length]!;
}

/**
 * A chart of `series` over `x` (UNIX seconds), with a caption and a text alternative; redrawn when
 * the data change, rebuilt when the series or the theme change.
 */
export function TimeChart({
  caption,
  summary,
  x,
  series,
  height = 260,
}: {
  caption: string;
  summary: string;
  x: number[];
  series: ChartSeries[];
  height?: number;
}): ReactNode {
  const { isDark } = useIsDark();
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = `${isDark}|${series.map((s) => s.label).join('|')}`;
  const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)];
  const latest = useRef(data);
  latest.current = data;

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when the series or theme change (shape)
  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const text = isDark ? '#cecece' : '#3a3a3a';
    const grid = isDark ? '#353535' : '#e5e5e5';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth),
      height,
      legend: { show: false },
      // 24-hour clock and day/month, as French readers (and the DSFR) write them, in both languages.
      fmtDate: (template) =>
        uPlot.fmtDate(
          template
            .replace('{h}', '{HH}')
            .replace('{aa}', '')
            .replace('{M}/{D}/{YY}', '{DD}/{MM}/{YY}')
            .replace('{M}/{D}', '{DD}/{MM}'),
        ),
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 48 }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: seriesColour(i, isDark),
          width: 2,
          points: { show: false },
        })),
      ],
    };
    const chart = new uPlot(options, latest.current, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(320, element.clientWidth), height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure className="fr-my-3w">
      <div ref={holder} className="rempart-chart" role="img" aria-label={`${caption}. ${summary}`} />
      <figcaption className="fr-text--sm fr-mt-1w">
        {caption}
        <ul className="fr-tags-group fr-mt-1w" aria-hidden="true">
          {series.map((s, i) => (
            <li key={s.label}>
              <span className={`fr-tag fr-tag--sm rempart-legend rempart-legend--${i % 8}`}>{s.label}</span>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
